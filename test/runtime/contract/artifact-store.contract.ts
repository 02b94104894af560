import { randomUUID } from 'crypto';
import type { ArtifactStore } from '../../../src/runtime/ports';

/**
 * The ArtifactStore contract. `makeStore` is called once per test; keys are unique per test,
 * so the store may be shared.
 */
export function artifactStoreContract(makeStore: () => Promise<ArtifactStore>): void {
  let store: ArtifactStore;
  let prefix: string;

  beforeEach(async () => {
    store = await makeStore();
    prefix = `runs/${randomUUID()}`;
  });

  const text = async (key: string) => {
    const bytes = await store.get(key);
    return bytes === undefined ? undefined : Buffer.from(bytes).toString('utf8');
  };

  test('says where agents write: a bucket or a local folder', () => {
    expect(Boolean(store.location.bucket) || Boolean(store.location.localDir)).toBe(true);
  });

  test('put then get returns the text (UTF-8), and exists says so', async () => {
    const key = `${prefix}/research/notes.md`;
    const body = '# Notes\nDurable agents: ünïcödé, 日本語, emoji 🚀\n';
    await store.put(key, body, 'text/markdown');
    expect(await text(key)).toBe(body);
    expect(await store.exists(key)).toBe(true);
  });

  test('binary bodies come back byte for byte, as a Uint8Array', async () => {
    const key = `${prefix}/blob.bin`;
    const body = new Uint8Array(Array.from({ length: 512 }, (_, i) => (i * 7 + 3) % 256));
    await store.put(key, body, 'application/octet-stream');
    const got = await store.get(key);
    expect(got).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(got!).equals(Buffer.from(body))).toBe(true);
    const empty = `${prefix}/empty.bin`;
    await store.put(empty, new Uint8Array());
    expect((await store.get(empty))?.byteLength).toBe(0);
    expect(await store.exists(empty)).toBe(true);
  });

  test('a missing key: get is undefined, exists is false', async () => {
    expect(await store.get(`${prefix}/missing.md`)).toBeUndefined();
    expect(await store.exists(`${prefix}/missing.md`)).toBe(false);
  });

  test('a prefix of stored keys is not itself an artifact', async () => {
    await store.put(`${prefix}/dir/file.txt`, 'x');
    expect(await store.exists(`${prefix}/dir`)).toBe(false);
    expect(await store.get(`${prefix}/dir`)).toBeUndefined();
  });

  test('put replaces an existing artifact', async () => {
    const key = `${prefix}/report.md`;
    await store.put(key, 'first version, longer than the second');
    await store.put(key, 'second');
    expect(await text(key)).toBe('second');
  });

  test('copy duplicates the content and leaves the source; keys may hold spaces and non-ASCII', async () => {
    const from = `${prefix}/drafts/wf 1/rapport été.md`;
    const to = `${prefix}/published/wf 1/report.md`;
    await store.put(from, 'final report');
    await store.copy(from, to);
    expect(await text(to)).toBe('final report');
    expect(await text(from)).toBe('final report');
    await store.put(from, 'changed later');
    expect(await text(to)).toBe('final report');
  });

  test('copy over an existing target replaces it', async () => {
    await store.put(`${prefix}/a.md`, 'a');
    await store.put(`${prefix}/b.md`, 'b');
    await store.copy(`${prefix}/a.md`, `${prefix}/b.md`);
    expect(await text(`${prefix}/b.md`)).toBe('a');
  });

  test('copy of a missing artifact is refused and creates nothing', async () => {
    await expect(store.copy(`${prefix}/missing.md`, `${prefix}/target.md`)).rejects.toThrow(/missing\.md.*not found/);
    expect(await store.exists(`${prefix}/target.md`)).toBe(false);
  });

  test.each([
    ['', /is empty/],
    ['../outside.md', /"\.\." segment/],
    ['reports/../../outside.md', /"\.\." segment/],
    ['/etc/passwd', /absolute path/],
    ['reports//x.md', /empty segment/],
    ['reports/x/', /empty segment/],
    ['reports/./x.md', /"\." segment/],
    ['reports\\x.md', /backslash/],
    ['C:/x.md', /drive letter/],
  ])('the key %j is refused by put, get, exists and copy, naming the key', async (key, why) => {
    const named = new RegExp(`artifact key '${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}' is not valid: .*${why.source}`);
    await expect(store.put(key, 'x')).rejects.toThrow(named);
    await expect(store.get(key)).rejects.toThrow(named);
    await expect(store.exists(key)).rejects.toThrow(named);
    await store.put(`${prefix}/ok.md`, 'ok');
    await expect(store.copy(`${prefix}/ok.md`, key)).rejects.toThrow(named);
    await expect(store.copy(key, `${prefix}/ok2.md`)).rejects.toThrow(named);
    expect(await store.exists(`${prefix}/ok2.md`)).toBe(false);
  });
}
