// onnxruntime-node, loaded lazily (only the smoke worker needs it) with the
// same ABI-mismatch explanation as better-sqlite3, and execution-provider
// failures turned into plain words.
import type * as Ort from 'onnxruntime-node';
import { nativeModuleError } from '../store/nativeSqlite';

export type OrtModule = typeof Ort;

/** Every provider name onnxruntime-node knows; which of them a machine offers is listBackends' answer. */
export const EXECUTION_PROVIDERS = ['cpu', 'cuda', 'webgpu', 'tensorrt', 'dml', 'coreml'] as const;
export type ExecutionProvider = (typeof EXECUTION_PROVIDERS)[number];

export interface BackendInfo {
  name: string;
  /** Shipped inside onnxruntime-node's package (cuda/tensorrt need libraries installed separately). */
  bundled: boolean;
}

let cached: OrtModule | undefined;

export function loadOnnxRuntime(): OrtModule {
  if (cached) return cached;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    cached = require('onnxruntime-node') as OrtModule;
    return cached;
  } catch (e) {
    throw nativeModuleError('onnxruntime-node', e);
  }
}

export function listBackends(ort: OrtModule): BackendInfo[] {
  try {
    return ort.listSupportedBackends().map((b) => ({ name: b.name, bundled: b.bundled }));
  } catch {
    return [{ name: 'cpu', bundled: true }];
  }
}

/** Providers onnxruntime-node builds only for one operating system, to say so when another one asks. */
const ONLY_ON: Partial<Record<ExecutionProvider, string>> = { dml: 'Windows', coreml: 'macOS' };

/** Why a requested execution provider could not be used, for a person, not a log. */
export function explainProviderFailure(ep: ExecutionProvider, runtimeMessage: string, backends: readonly BackendInfo[]): string {
  const listed = backends.find((b) => b.name === ep);
  if (!listed) {
    const only = ONLY_ON[ep] ? ` (${ep} exists only in the ${ONLY_ON[ep]} build)` : '';
    return `this onnxruntime-node build has no ${ep} execution provider${only}; it offers: ${backends.map((b) => b.name).join(', ')}`;
  }
  const missingLibrary = /shared library|libonnxruntime_providers|cannot open shared object/i.test(runtimeMessage);
  if (ep === 'cuda' && missingLibrary) {
    return (
      "the CUDA execution provider is not installed: onnxruntime-node's install skipped its download (offline install; see the README), " +
      'or the CUDA 12 / cuDNN 9 libraries it needs are missing. Install it with `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node` on a machine that can download it'
    );
  }
  if (ep === 'tensorrt' && missingLibrary) {
    return 'the TensorRT execution provider is not installed: it needs the CUDA provider (see cuda) plus the TensorRT 10 libraries on the library path';
  }
  if (ep === 'webgpu' && /adapter/i.test(runtimeMessage)) {
    // On Linux, onnxruntime-node's WebGPU runs on Vulkan: the usual gap is the loader, or a loader that cannot find the driver.
    const linuxHint =
      process.platform === 'linux'
        ? ' (on Linux it runs on Vulkan: it needs the GPU driver and a Vulkan loader, e.g. Debian\'s libvulkan1, and VK_DRIVER_FILES pointing at the driver\'s ICD file such as nvidia_icd.json if the loader does not find it; software Vulkan is not accepted)'
        : '';
    return `no GPU adapter that WebGPU can use was found on this machine${linuxHint}`;
  }
  return `the ${ep} execution provider could not start: ${firstLine(runtimeMessage)}`;
}

export function firstLine(text: string): string {
  return text.split('\n').map((l) => l.trim()).find((l) => l.length > 0) ?? text;
}

/** The providers besides CPU that this machine's runtime lists: what a parity check compares against CPU by default. */
export function acceleratedBackends(backends: readonly BackendInfo[]): ExecutionProvider[] {
  return backends.map((b) => b.name).filter((name): name is ExecutionProvider => name !== 'cpu' && (EXECUTION_PROVIDERS as readonly string[]).includes(name));
}
