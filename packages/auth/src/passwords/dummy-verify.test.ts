import * as argon2 from 'argon2';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { dummyVerify, warmUpDummyHash } from './dummy-verify.js';
import { TEST_PARAMS } from './hashing-params.js';

// Spy on the real native functions: the dummy verify must do real Argon2id work.
vi.mock('argon2', async (importOriginal) => {
  const real = await importOriginal<typeof argon2>();
  return { ...real, hash: vi.fn(real.hash), verify: vi.fn(real.verify) };
});

afterEach(() => {
  vi.mocked(argon2.verify).mockClear();
  vi.mocked(argon2.hash).mockClear();
});

describe('dummy verify for unknown users', () => {
  test('it runs one real Argon2id verify with the current parameters and answers not ok', async () => {
    const result = await dummyVerify(TEST_PARAMS);
    expect(result).toEqual({ ok: false, needsRehash: false });
    expect(argon2.verify).toHaveBeenCalledTimes(1);
    const [dummyHash] = vi.mocked(argon2.verify).mock.calls[0] ?? [];
    expect(dummyHash).toMatch(/^\$argon2id\$v=19\$/);
    expect(dummyHash).toContain('m=1024');
    expect(dummyHash).toContain('t=1');
    expect(dummyHash).toContain('p=1');
    await expect(vi.mocked(argon2.verify).mock.results[0]?.value).resolves.toBe(false);
  });

  test('the dummy hash is made once per parameter set, so later calls only verify', async () => {
    await warmUpDummyHash(TEST_PARAMS);
    vi.mocked(argon2.hash).mockClear();
    await dummyVerify(TEST_PARAMS);
    await dummyVerify(TEST_PARAMS);
    expect(argon2.hash).not.toHaveBeenCalled();
    expect(argon2.verify).toHaveBeenCalledTimes(2);
  });

  test('other parameters get their own dummy hash', async () => {
    const stronger = { ...TEST_PARAMS, memoryCost: 2048 };
    await dummyVerify(stronger);
    const [dummyHash] = vi.mocked(argon2.verify).mock.calls[0] ?? [];
    expect(dummyHash).toContain('m=2048');
  });
});
