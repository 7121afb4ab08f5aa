/** Vigil refuses to start: the message is one line saying what is wrong and how to fix it. */
export class ConfigError extends Error {}
