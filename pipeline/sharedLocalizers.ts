/**
 * A worker's model pools and indexes, shared by the flights that use the same ones: a second
 * flight on an index already open starts at once (a taken-over flight too), and N flights hold
 * one copy of the index in memory, not N. Each is closed when its last flight lets it go.
 */
import { resolve } from 'node:path';
import type { PipelineConfig } from './config';
import type { Logger } from './core/log';
import { type Localizer, openLocalizer } from './session';

export interface LocalizerLease {
  localizer: Localizer;
  release(): Promise<void>;
}

export class SharedLocalizers {
  private readonly open = new Map<string, { localizer: Promise<Localizer>; users: number }>();

  constructor(private readonly logger: Logger) {}

  async acquire(modelPath: string | undefined, indexDir: string, config: PipelineConfig, lossless: boolean): Promise<LocalizerLease> {
    // what openLocalizer's result depends on
    const key = JSON.stringify([modelPath && resolve(modelPath), resolve(indexDir), config.register, config.workers, config.providers, config.intraOpThreads, lossless]);
    let entry = this.open.get(key);
    if (!entry) {
      entry = { localizer: openLocalizer(modelPath, indexDir, config, lossless, this.logger), users: 0 };
      this.open.set(key, entry);
    }
    entry.users += 1;
    let localizer: Localizer;
    try {
      localizer = await entry.localizer;
    } catch (err) {
      entry.users -= 1;
      if (this.open.get(key) === entry) this.open.delete(key);
      throw err;
    }
    const held = entry;
    let released = false;
    return {
      localizer,
      release: async () => {
        if (released) return;
        released = true;
        held.users -= 1;
        if (held.users > 0) return;
        this.open.delete(key);
        await localizer.close();
      },
    };
  }
}
