/**
 * Where the pipeline process's CPU goes: V8's sampling profiler (node:inspector, in process) for
 * the length of a run, its self time grouped by component: a package under node_modules, a folder
 * of this repository, Node's internals, or the garbage collector.
 */
import { Session } from 'node:inspector/promises';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  hitCount?: number;
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

const REPO = path.resolve(__dirname, '..');

/** The component a script URL belongs to. */
export function componentOf(url: string, functionName: string): string {
  if (!url) {
    if (functionName === '(garbage collector)') return 'garbage collector';
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(program)') return 'V8 / native (program)';
    return 'native';
  }
  if (url.startsWith('node:')) return 'node internals';
  const file = url.startsWith('file://') ? decodeURIComponent(new URL(url).pathname) : url;
  const modules = file.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const [first, second] = file.slice(modules + '/node_modules/'.length).split('/');
    return first.startsWith('@') ? `${first}/${second}` : first;
  }
  if (file.startsWith(REPO)) {
    const parts = path.relative(REPO, file).split(path.sep);
    return parts.length > 2 ? `${parts[0]}/${parts[1]}` : parts.slice(0, -1).join('/') || parts[0];
  }
  return 'other';
}

export interface CpuProfileSummary {
  /** Self time by component, most first. */
  components: { component: string; seconds: number }[];
  /** The functions with the most self time. */
  functions: { name: string; component: string; seconds: number }[];
}

export async function startProfiling(): Promise<() => Promise<CpuProfileSummary>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 1000 });
  await session.post('Profiler.start');
  return async () => {
    const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: Profile };
    session.disconnect();
    const byId = new Map(profile.nodes.map((node) => [node.id, node]));
    const seconds = new Map<string, number>();
    const byFunction = new Map<string, { name: string; component: string; seconds: number }>();
    const samples = profile.samples ?? [];
    const deltas = profile.timeDeltas ?? [];
    samples.forEach((id, i) => {
      const node = byId.get(id);
      if (!node) return;
      // A sample's time is the gap to the next one.
      const ms = (deltas[i + 1] ?? 0) / 1000;
      const component = componentOf(node.callFrame.url, node.callFrame.functionName);
      seconds.set(component, (seconds.get(component) ?? 0) + ms / 1000);
      const name = `${node.callFrame.functionName || '(anonymous)'} ${path.basename(node.callFrame.url)}`.trim();
      const entry = byFunction.get(`${component} ${name}`) ?? { name, component, seconds: 0 };
      entry.seconds += ms / 1000;
      byFunction.set(`${component} ${name}`, entry);
    });
    return {
      components: [...seconds.entries()].map(([component, value]) => ({ component, seconds: value })).sort((a, b) => b.seconds - a.seconds),
      functions: [...byFunction.values()].sort((a, b) => b.seconds - a.seconds).slice(0, 15),
    };
  };
}
