// What the features need beyond the study itself: model summaries (read off the request path),
// the zoo listing and the device the user runs on. One instance per server; tests build their own.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { listZooModels, type ZooListing } from '../runtime/models/zoo.js';
import { ModelInspector } from './models.js';

export interface Environment {
  models: ModelInspector;
  /** The zoo with each entry's install state, packages looked up from `dir` too (cached;
   * packages rarely change while editing). */
  zoo(dir?: string): ZooListing[];
  /** Device for time estimates: the study's own `device=` wins, then this (the client setting). */
  device: string;
}

export function createEnvironment(options: { models?: ModelInspector; device?: string; zooTtlMs?: number } = {}): Environment {
  const zoo = new Map<string, { at: number; list: ZooListing[] }>();
  const ttl = options.zooTtlMs ?? 10_000;
  return {
    models: options.models ?? new ModelInspector(),
    zoo(dir) {
      const now = Date.now();
      let entry = zoo.get(dir ?? '');
      if (!entry || now - entry.at > ttl) {
        const searchFrom = [...(dir ? [dir] : []), path.dirname(fileURLToPath(import.meta.url)), process.cwd()];
        entry = { at: now, list: listZooModels({ searchFrom }) };
        if (zoo.size > 16) zoo.clear();
        zoo.set(dir ?? '', entry);
      }
      return entry.list;
    },
    device: options.device ?? 'auto',
  };
}
