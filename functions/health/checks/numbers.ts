/** Rounded for people and metrics; full precision is noise in a health report. */
export const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;
