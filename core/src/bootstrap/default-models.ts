/**
 * Models every fresh platform knows. The first is what the local simulated node serves under
 * `npm start`; prices are per million tokens in micro-dollars and editable by admins.
 */
export const DEFAULT_MODELS = [
  {
    name: 'cic/sim-echo-1',
    displayName: 'Simulated echo model (local vLLM simulator)',
    maxModelLen: 4096,
    promptPriceMicros: 100_000n,
    completionPriceMicros: 300_000n,
  },
];

export const LOCAL_NODE_MODEL = DEFAULT_MODELS[0]!.name;
