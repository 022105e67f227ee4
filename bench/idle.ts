/**
 * The runtime's own floor: a Deno process that does nothing but keep its event loop alive. The
 * footprint benchmark runs it with oomhero's runtime flags (scripts/runtime-flags). Given an
 * interval in milliseconds it wakes that often and does nothing else (`deno-tick`): what the
 * runtime alone costs to wake at oomhero's loop interval.
 * @module
 */
setInterval(() => {}, Number(Deno.args[0] ?? 1e9));
