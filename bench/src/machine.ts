/**
 * What the benchmark ran on.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg, totalmem } from 'node:os';

/** Machine and version description stored with every result. */
export interface MachineInfo {
  readonly nproc: number;
  readonly cpuModel: string;
  readonly cpuFlags: string[];
  readonly memGiB: number;
  readonly platform: string;
  readonly node: string;
  readonly v8: string;
  readonly openssl: string;
  readonly loadavgStart: number[];
  readonly packages: Record<string, string>;
}

function cpuInfo(): { model: string; flags: string[] } {
  try {
    const text = readFileSync('/proc/cpuinfo', 'utf8');
    const model = /^model name\s*:\s*(.*)$/m.exec(text)?.[1] ?? 'unknown';
    const flags = (/^flags\s*:\s*(.*)$/m.exec(text)?.[1] ?? '').split(' ');
    return { model, flags: ['sha_ni', 'avx2', 'avx512f'].filter((f) => flags.includes(f)) };
  } catch {
    return { model: 'unknown', flags: [] };
  }
}

/** Collects the machine description. */
export function machineInfo(): MachineInfo {
  const require = createRequire(import.meta.url);
  const packages: Record<string, string> = {};
  for (const name of ['@keyturn/core', 'mitata', 'stripe', 'svix', 'standardwebhooks', '@octokit/webhooks-methods']) {
    try {
      packages[name] = (require(`${name}/package.json`) as { version: string }).version;
    } catch {
      // Not every package exports package.json; look it up through the resolver's directory.
      packages[name] = lookupVersion(require, name);
    }
  }
  const cpu = cpuInfo();
  return {
    nproc: availableParallelism(),
    cpuModel: cpu.model,
    cpuFlags: cpu.flags,
    memGiB: Math.round(totalmem() / 2 ** 30),
    platform: `${process.platform} ${process.arch}`,
    node: process.version,
    v8: process.versions.v8,
    openssl: process.versions.openssl ?? 'unknown',
    loadavgStart: loadavg().map((l) => Math.round(l * 100) / 100),
    packages,
  };
}

function lookupVersion(require: NodeJS.Require, name: string): string {
  for (const dir of require.resolve.paths(name) ?? []) {
    try {
      return (JSON.parse(readFileSync(`${dir}/${name}/package.json`, 'utf8')) as { version: string }).version;
    } catch {
      // next
    }
  }
  return 'unknown';
}
