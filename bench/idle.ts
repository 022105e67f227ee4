/**
 * The runtime's own floor: a Deno process that does nothing but keep its event loop alive. The
 * footprint benchmark runs it with oomhero's runtime flags (scripts/runtime-flags).
 * @module
 */
setInterval(() => {}, 1e9);
