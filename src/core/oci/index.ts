// Model versions as OCI artifacts in container registries: push (behind the
// release gate, audited) and pull (digest-verified). What the agent's CLI and
// JSON-RPC handlers call; the modules behind it each do one job.
export { pushApprovedVersion, pullModelArtifact, type PushVersionRequest, type PushVersionResult, type PullRequest } from './pushVersion';
export type { PushProgress } from './push';
export type { PullResult, PulledFile } from './pull';
export { explicitCredentials, firstOf, NO_CREDENTIALS, type CredentialSource, type RegistryCredentials } from './credentials';
export { dockerConfigCredentials, defaultDockerConfigPath } from './dockerConfig';
export { RegistryError, isRegistryError, type RegistryFailure } from './errors';
export { parseOciReference, formatReference, isLoopbackHost, type OciReference } from './reference';
export { MODEL_ARTIFACT_TYPE, MANIFEST_MEDIA_TYPE, MODEL_CARD_MEDIA_TYPE, MODEL_FILE_MEDIA_TYPE, SMOKE_REPORT_MEDIA_TYPE } from './artifact';
