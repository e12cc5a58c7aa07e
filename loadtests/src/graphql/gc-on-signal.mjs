// Preloaded into the GraphQL benchmark's API process, which runs with --expose-gc: SIGUSR2 runs a full
// garbage collection, so the heap the benchmark reads next is live memory, not garbage awaiting the
// next collection (the young generation alone can hold tens of KB per subscriber right after connecting).
process.on('SIGUSR2', () => globalThis.gc?.());
