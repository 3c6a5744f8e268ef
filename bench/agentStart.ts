// Agent start time: spawn to a hello answer, next to spawning a bare `node -e 0`.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { PROTOCOL_VERSION } from '../src/shared/protocol';
import { startAgent } from '../test/support/agentProcess';

export interface AgentStartResult {
  bareNodeMs: number;
  agentHelloMs: number;
  ratio: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export async function benchAgentStart(dir: string, repeats = 5): Promise<AgentStartResult> {
  const bare: number[] = [];
  const agent: number[] = [];
  for (let i = 0; i < repeats; i++) {
    let t = performance.now();
    spawnSync(process.execPath, ['-e', '0']);
    bare.push(performance.now() - t);
    t = performance.now();
    const handle = startAgent(path.join(dir, `agent-${i}.db`));
    await handle.request('agent/hello', { clientName: 'bench', protocolVersion: PROTOCOL_VERSION });
    agent.push(performance.now() - t);
    await handle.stop();
  }
  const bareNodeMs = median(bare);
  const agentHelloMs = median(agent);
  return { bareNodeMs, agentHelloMs, ratio: agentHelloMs / bareNodeMs };
}
