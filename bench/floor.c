/*
 * The syscall floor: the least work that reads what oomhero reads, in C. For every /proc/<pid>:
 * stat, cmdline, oom_score, oom_score_adj and cgroup; for every memory cgroup once per scan: its
 * usage, memory.stat and the limit files up to the root of the hierarchy; for every cgroup2
 * directory once per scan: the three *.pressure files, or the system-wide /proc/pressure files where it has none.
 * Each file is opened, read, parsed into numbers and closed, as oomhero does; nothing is kept.
 *
 *   cc -O2 -o bench/out/floor bench/floor.c
 *   floor [--procfs DIR] [--cgroupfs DIR] loop INTERVAL_MS   scan forever, like oomhero
 *   floor [--procfs DIR] [--cgroupfs DIR] scan COUNT         time COUNT scans, print JSON
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PATH_LEN 4096
#define CMDLINE_LIMIT (64 * 1024)
#define TABLE_SIZE 16384 /* per-scan cache of cgroup directories; a power of two */

static char procfs[PATH_LEN] = "/proc";
static char memory_root[PATH_LEN];
static char unified_root[PATH_LEN]; /* empty: no cgroup2 hierarchy (v1 only) */
static int cgroup_version;          /* of the memory controller: 1 or 2 */

static char buffer[CMDLINE_LIMIT];
static volatile double sink; /* keeps the parsed numbers alive */

/* Reads a whole small file into buffer; returns its length, or -1 when it cannot be read. */
static ssize_t read_file(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t total = 0;
  for (;;) {
    ssize_t n = read(fd, buffer + total, sizeof(buffer) - 1 - total);
    if (n <= 0) break;
    total += n;
    if ((size_t)total == sizeof(buffer) - 1) break;
  }
  close(fd);
  buffer[total] = '\0';
  return total;
}

static int exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

/* A set of strings, cleared by bumping the generation: directories already read this scan. */
struct seen {
  char *keys[TABLE_SIZE];
  unsigned generation[TABLE_SIZE];
};
static struct seen memory_seen, limit_seen, pressure_seen;
static unsigned generation = 1;

/* Returns 1 when key was already seen this scan, else records it and returns 0. */
static int seen_before(struct seen *set, const char *key) {
  uint64_t h = 1469598103934665603ULL;
  for (const char *p = key; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ULL;
  for (size_t i = h & (TABLE_SIZE - 1);; i = (i + 1) & (TABLE_SIZE - 1)) {
    if (set->generation[i] != generation) {
      free(set->keys[i]);
      set->keys[i] = strdup(key);
      set->generation[i] = generation;
      return 0;
    }
    if (strcmp(set->keys[i], key) == 0) return 1;
  }
}

static void read_limit(const char *dir) {
  char path[PATH_LEN];
  if (seen_before(&limit_seen, dir)) return;
  snprintf(path, sizeof(path), "%s/%s", dir,
           cgroup_version == 2 ? "memory.max" : "memory.limit_in_bytes");
  if (read_file(path) > 0) sink += strtod(buffer, NULL);
}

/* Usage, inactive_file and the limits of dir and its ancestors, once per scan. */
static void read_memory(const char *dir) {
  char path[PATH_LEN];
  if (seen_before(&memory_seen, dir)) return;
  snprintf(path, sizeof(path), "%s/%s", dir,
           cgroup_version == 2 ? "memory.current" : "memory.usage_in_bytes");
  if (read_file(path) > 0) sink += strtod(buffer, NULL);
  snprintf(path, sizeof(path), "%s/memory.stat", dir);
  if (read_file(path) > 0) {
    const char *key = cgroup_version == 2 ? "\ninactive_file " : "\ntotal_inactive_file ";
    char *at = strstr(buffer, key);
    if (at) sink += strtod(at + strlen(key), NULL);
  }
  char cur[PATH_LEN];
  snprintf(cur, sizeof(cur), "%s", dir);
  size_t root_len = strlen(memory_root);
  for (;;) {
    read_limit(cur);
    if (strlen(cur) <= root_len) break;
    char *slash = strrchr(cur, '/');
    if (!slash) break;
    *slash = '\0';
  }
}

/* Parses one PSI file: "some avg10=.. avg60=.. avg300=.. total=.." and the same for "full". */
static int read_psi(const char *path) {
  if (read_file(path) < 0) return 0;
  double a, b, c;
  unsigned long long t;
  for (char *line = buffer; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
    if (sscanf(line, "%*s avg10=%lf avg60=%lf avg300=%lf total=%llu", &a, &b, &c, &t) == 4) {
      sink += a + b + c + (double)t;
    }
  }
  return 1;
}

static const char *RESOURCES[] = {"memory", "io", "cpu"};

static void read_pressure(const char *dir) {
  char path[PATH_LEN];
  if (dir[0] != '\0') {
    if (seen_before(&pressure_seen, dir)) return; /* read, or fell back, earlier this scan */
    int found = 0;
    for (int r = 0; r < 3; r++) {
      snprintf(path, sizeof(path), "%s/%s.pressure", dir, RESOURCES[r]);
      found |= read_psi(path);
    }
    if (found) return;
  }
  if (seen_before(&pressure_seen, "system")) return;
  for (int r = 0; r < 3; r++) {
    snprintf(path, sizeof(path), "%s/pressure/%s", procfs, RESOURCES[r]);
    read_psi(path);
  }
}

/* Reads one process; returns 1 when it was sampled (not a kernel thread, not gone). */
static int read_process(const char *pid) {
  char path[PATH_LEN], memory_path[PATH_LEN] = "", unified_path[PATH_LEN] = "";
  int have_memory = 0, have_unified = 0;

  snprintf(path, sizeof(path), "%s/%s/stat", procfs, pid);
  if (read_file(path) < 0) return 0;
  char *field = strrchr(buffer, ')');
  if (!field) return 0;
  for (int i = 2; i < 22 && field; i++) field = strchr(field + 1, ' ');
  if (field) sink += strtod(field + 1, NULL); /* start time, field 22 */

  snprintf(path, sizeof(path), "%s/%s/cmdline", procfs, pid);
  if (read_file(path) <= 0) return 0; /* kernel thread or zombie */

  snprintf(path, sizeof(path), "%s/%s/cgroup", procfs, pid);
  if (read_file(path) < 0) return 0;
  for (char *line = strtok(buffer, "\n"); line; line = strtok(NULL, "\n")) {
    char *first = strchr(line, ':');
    char *second = first ? strchr(first + 1, ':') : NULL;
    if (!second) continue;
    *second = '\0';
    if (strcmp(line, "0") == 0 && first + 1 == second) {
      snprintf(unified_path, sizeof(unified_path), "%s", second + 1);
      have_unified = 1;
    } else if (strstr(first + 1, "memory")) {
      snprintf(memory_path, sizeof(memory_path), "%s", second + 1);
      have_memory = 1;
    }
  }

  snprintf(path, sizeof(path), "%s/%s/oom_score", procfs, pid);
  if (read_file(path) > 0) sink += atoi(buffer);
  snprintf(path, sizeof(path), "%s/%s/oom_score_adj", procfs, pid);
  if (read_file(path) > 0) sink += atoi(buffer);

  const char *mem = cgroup_version == 2 ? unified_path : memory_path;
  if (cgroup_version == 2 ? have_unified : have_memory) {
    char dir[PATH_LEN];
    snprintf(dir, sizeof(dir), "%s%s", memory_root, strcmp(mem, "/") == 0 ? "" : mem);
    read_memory(dir);
  }
  char pressure_dir[PATH_LEN] = "";
  if (have_unified && unified_root[0] != '\0') {
    snprintf(pressure_dir, sizeof(pressure_dir), "%s%s", unified_root,
             strcmp(unified_path, "/") == 0 ? "" : unified_path);
  }
  read_pressure(pressure_dir);
  return 1;
}

/* One scan over procfs; returns the number of processes sampled. */
static int scan(void) {
  generation++;
  DIR *dir = opendir(procfs);
  if (!dir) {
    perror(procfs);
    exit(1);
  }
  int sampled = 0;
  for (struct dirent *e; (e = readdir(dir)) != NULL;) {
    if (!isdigit((unsigned char)e->d_name[0])) continue;
    if (atoi(e->d_name) == getpid()) continue;
    sampled += read_process(e->d_name);
  }
  closedir(dir);
  return sampled;
}

static double clock_ms(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double now_ms(void) { return clock_ms(CLOCK_MONOTONIC); }

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void usage(void) {
  fprintf(stderr, "usage: floor [--procfs DIR] [--cgroupfs DIR] loop INTERVAL_MS | scan COUNT\n");
  exit(2);
}

int main(int argc, char **argv) {
  char cgroupfs[PATH_LEN] = "/sys/fs/cgroup";
  int i = 1;
  for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
    if (strcmp(argv[i], "--procfs") == 0) snprintf(procfs, sizeof(procfs), "%s", argv[i + 1]);
    else if (strcmp(argv[i], "--cgroupfs") == 0) snprintf(cgroupfs, sizeof(cgroupfs), "%s", argv[i + 1]);
    else usage();
  }
  if (argc - i != 2) usage();
  const char *mode = argv[i];
  long count = atol(argv[i + 1]);
  if (count <= 0) usage();

  char path[PATH_LEN];
  snprintf(path, sizeof(path), "%s/cgroup.controllers", cgroupfs);
  if (exists(path)) {
    cgroup_version = 2;
    snprintf(memory_root, sizeof(memory_root), "%s", cgroupfs);
    snprintf(unified_root, sizeof(unified_root), "%s", cgroupfs);
  } else {
    cgroup_version = 1;
    snprintf(memory_root, sizeof(memory_root), "%s/memory", cgroupfs);
    snprintf(path, sizeof(path), "%s/unified/cgroup.controllers", cgroupfs);
    if (exists(path)) snprintf(unified_root, sizeof(unified_root), "%s/unified", cgroupfs);
  }

  if (strcmp(mode, "loop") == 0) {
    for (;;) {
      double start = now_ms();
      scan();
      double wait = count - (now_ms() - start);
      if (wait > 0) {
        long long ns = (long long)(wait * 1e6);
        struct timespec ts = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
        nanosleep(&ts, NULL);
      }
    }
  }
  if (strcmp(mode, "scan") != 0) usage();
  /* Wall time, and CPU time, which a busy shared machine disturbs less. */
  double *times = malloc(sizeof(double) * count);
  double *cpu = malloc(sizeof(double) * count);
  int processes = 0;
  scan(); /* warm-up: dentries and inodes cached, as in a long-running loop */
  for (long n = 0; n < count; n++) {
    double start = now_ms(), cpu_start = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
    processes = scan();
    times[n] = now_ms() - start;
    cpu[n] = clock_ms(CLOCK_PROCESS_CPUTIME_ID) - cpu_start;
  }
  qsort(times, count, sizeof(double), compare_doubles);
  qsort(cpu, count, sizeof(double), compare_doubles);
  printf("{\"processes\":%d,\"scans\":%ld,\"median_ms\":%.4f,\"min_ms\":%.4f,"
         "\"max_ms\":%.4f,\"cpu_median_ms\":%.4f}\n",
         processes, count, times[count / 2], times[0], times[count - 1], cpu[count / 2]);
  free(times);
  free(cpu);
  return 0;
}
