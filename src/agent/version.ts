// The agent's version, sent in RegisterContainerInstance's versionInfo and in every hello.
export const AGENT_VERSION = '0.1.0';
