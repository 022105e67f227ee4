// A Node.js service that reacts to oomhero. Node.js starts its inspector on SIGUSR1, so run
// oomhero with: --warning-signal SIGUSR2 --critical-signal SIGHUP
const cache = new Map(); // stands in for whatever your service can rebuild later

process.on("SIGUSR2", () => {
  // Warning: drop the older half of the cache.
  const keys = [...cache.keys()];
  keys.slice(0, keys.length / 2).forEach((k) => cache.delete(k));
  console.log(`warning: cache trimmed to ${cache.size} entries`);
});

process.on("SIGHUP", () => {
  // Critical: drop everything that can be rebuilt, and stop taking new work if you can.
  cache.clear();
  console.log("critical: cache cleared");
});

for (let i = 0; i < 1000; i++) cache.set(i, "x".repeat(1024));
console.log("ready");
setInterval(() => {}, 60_000); // keep serving
