// Artillery's engine package ships no types: runner/engine/artillery.ts describes the parts it uses.
declare module '@artilleryio/int-core' {
  const core: unknown;
  export default core;
}
declare module '@artilleryio/int-core/lib/ssms.js' {
  const ssms: unknown;
  export default ssms;
}
declare module 'artillery-plugin-metrics-by-endpoint' {
  export const Plugin: new (script: unknown, events: unknown) => unknown;
}
