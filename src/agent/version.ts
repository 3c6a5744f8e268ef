// Bundled from package.json at build time.
import packageJson from '../../package.json';

export const AGENT_VERSION: string = packageJson.version;
