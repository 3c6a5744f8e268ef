// The words a user reads when a GPU provider cannot be used: each names the
// cause and what to install, from the runtime's own message.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { explainProviderFailure } from '../../../src/core/models/ortRuntime';

const linuxBackends = [{ name: 'cpu' }, { name: 'webgpu' }, { name: 'cuda' }, { name: 'tensorrt' }] as never;

test('WebGPU without an adapter: on Linux the reason names the Vulkan loader and VK_DRIVER_FILES', () => {
  // The message onnxruntime-node 1.30 gives on a machine whose only Vulkan is software (seen here).
  const reason = explainProviderFailure('webgpu', 'webgpu_context.cc:136 ... Failed to get a WebGPU adapter: No supported adapters', linuxBackends);
  assert.match(reason, /^no GPU adapter that WebGPU can use was found on this machine/);
  if (process.platform === 'linux') assert.match(reason, /Vulkan loader, e\.g\. Debian's libvulkan1, and VK_DRIVER_FILES .*nvidia_icd\.json/);
});

test('CUDA whose provider library is missing: how to install it; an unknown failure keeps the runtime\'s first line', () => {
  assert.match(explainProviderFailure('cuda', 'Failed to load library libonnxruntime_providers_cuda.so with error: cannot open shared object file', linuxBackends), /ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node/);
  assert.equal(explainProviderFailure('webgpu', 'device lost\nmore detail', linuxBackends), 'the webgpu execution provider could not start: device lost');
  assert.match(explainProviderFailure('dml', 'x', linuxBackends), /has no dml execution provider \(dml exists only in the Windows build\)/);
});
