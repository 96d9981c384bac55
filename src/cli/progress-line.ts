import { progressText } from '../conversation/present.js';
import type { Stage } from '../pipeline/types.js';

export interface ProgressLine {
  stage(stage: Stage, step?: number, steps?: number): void;
  end(): void;
}

/**
 * The CLI's live status on stderr, in the same words the chat adapters use. On a terminal one line is redrawn;
 * otherwise each new stage is printed once, so CI logs and pipes stay readable.
 */
export function createProgressLine(enabled: boolean, stream: NodeJS.WriteStream = process.stderr): ProgressLine {
  let last = '';
  let drawn = false;
  return {
    stage(stage, step, steps) {
      if (!enabled) return;
      const text = progressText({ stage, step, steps });
      if (text === last) return;
      if (stream.isTTY) {
        stream.write(`\r\x1b[2K${text}`);
        drawn = true;
      } else if (!step || text.split('(')[0] !== last.split('(')[0]) {
        stream.write(`${text}\n`);
      }
      last = text;
    },
    end() {
      if (drawn) stream.write('\r\x1b[2K');
      drawn = false;
    },
  };
}
