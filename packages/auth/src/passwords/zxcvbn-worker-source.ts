/**
 * The strength estimator's worker thread. zxcvbn is synchronous and CPU-bound: on this
 * project's 2-core machines a crafted 100-character input takes 0.1-2 s, which on the main
 * thread would stall every request of the process. The worker loads the dictionaries once
 * (language-common + language-en; ~0.4 s, ~15 MB) and scores one password at a time.
 *
 * The worker body is plain JavaScript evaluated in the thread (`eval: true`), because a
 * worker cannot load this package's TypeScript sources under the test runner; the modules it
 * loads are resolved here, from this package, and passed in as absolute paths.
 */
import { createRequire } from 'node:module';

export interface ZxcvbnWorkerData {
  core: string;
  common: string;
  en: string;
  /** Characters zxcvbn reads; the policy passes at most this many anyway. */
  maxLength: number;
  /** Caps the l33t matcher's combinations; its worst case grows steeply with this number. */
  l33tMaxSubstitutions: number;
}

export function zxcvbnWorkerData(): ZxcvbnWorkerData {
  const require = createRequire(import.meta.url);
  return {
    core: require.resolve('@zxcvbn-ts/core'),
    common: require.resolve('@zxcvbn-ts/language-common'),
    en: require.resolve('@zxcvbn-ts/language-en'),
    maxLength: 100,
    l33tMaxSubstitutions: 4,
  };
}

export const ZXCVBN_WORKER_SOURCE = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { ZxcvbnFactory } = require(workerData.core);
const common = require(workerData.common);
const en = require(workerData.en);
const zxcvbn = new ZxcvbnFactory({
  dictionary: { ...common.dictionary, ...en.dictionary },
  graphs: common.adjacencyGraphs,
  translations: en.translations,
  maxLength: workerData.maxLength,
  l33tMaxSubstitutions: workerData.l33tMaxSubstitutions,
});
parentPort.on('message', ({ password, userInputs }) => {
  const { score, feedback } = zxcvbn.check(password, userInputs);
  parentPort.postMessage({ score, warning: feedback.warning, suggestions: feedback.suggestions });
});
`;
