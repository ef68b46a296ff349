// kiln's clock, as the page last heard it (config.json): the controls can move it forward or
// freeze it, so "in 3 hours" and the lifecycle preview count from kiln's time, not the browser's.
let base = { epochSeconds: Date.now() / 1000, frozen: false, at: Date.now() };

export function setClock(clock) {
  base = { ...clock, at: Date.now() };
}

/** kiln's time now, in milliseconds since the epoch. */
export function kilnNow() {
  return base.epochSeconds * 1000 + (base.frozen ? 0 : Date.now() - base.at);
}

export const clockFrozen = () => base.frozen;
