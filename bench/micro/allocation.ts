// Bytes a piece of code allocates on the V8 heap, whether the garbage collector has already
// taken them back or not: the sampling heap profiler (one sample every 16 KB on average, so a
// few hundred MB give a figure good to ~1 %), with objects collected by either collector
// included. At a 1 MB young generation the bridge's scavenges grow with these bytes, not with
// what survives (docs/benchmarks.md), so they are the figure to cut.
import { Session } from 'node:inspector/promises';

interface SampleNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SampleNode[];
}

export interface Allocation {
  bytes: number;
  /** Bytes by the function that allocated them (`name file:line`), largest first. */
  byFunction: Array<[string, number]>;
}

export async function measureAllocation(run: () => void | Promise<void>): Promise<Allocation> {
  const session = new Session();
  session.connect();
  try {
    await session.post('HeapProfiler.enable');
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 16_384,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    await run();
    const { profile } = (await session.post('HeapProfiler.stopSampling')) as { profile: { head: SampleNode } };
    const byFunction = new Map<string, number>();
    let bytes = 0;
    const walk = (node: SampleNode): void => {
      if (node.selfSize > 0) {
        const { functionName, url, lineNumber } = node.callFrame;
        const name = `${functionName || '(anonymous)'} ${url.split('/').pop()}:${lineNumber + 1}`;
        byFunction.set(name, (byFunction.get(name) ?? 0) + node.selfSize);
        bytes += node.selfSize;
      }
      for (const child of node.children) walk(child);
    };
    walk(profile.head);
    return { bytes, byFunction: [...byFunction].sort((a, b) => b[1] - a[1]) };
  } finally {
    session.disconnect();
  }
}
