// Small file-system helpers shared by publish and pull: hard link or copy, durable renames, a walk, free space.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Hard-link `src` to `dst` (same file system), else copy it (reflink where the file system can). Returns how. */
export function linkOrCopy(src: string, dst: string): 'linked' | 'copied' {
  fs.mkdirSync(path.dirname(dst), { recursive: true });
  try {
    fs.linkSync(src, dst);
    return 'linked';
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      fs.rmSync(dst, { force: true });
      return linkOrCopy(src, dst);
    }
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EMLINK' && code !== 'EOPNOTSUPP')
      throw e;
  }
  fs.copyFileSync(src, dst, fs.constants.COPYFILE_FICLONE);
  return 'copied';
}

/** fsync a folder (so that a rename inside it survives a power cut); ignored where folders cannot be opened. */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    /* not supported here (e.g. some network file systems) */
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Every regular file under `dir`, as paths relative to it with forward slashes. */
export function walkFiles(dir: string, skip: (rel: string) => boolean = () => false): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    const abs = rel ? path.join(dir, rel) : dir;
    for (const e of fs.readdirSync(abs, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (skip(r)) continue;
      if (e.isDirectory()) walk(r);
      else if (e.isFile()) out.push(r);
    }
  };
  if (fs.existsSync(dir)) walk('');
  return out;
}

/** Bytes free for an unprivileged writer on the file system holding `dir` (undefined where unknown). */
export function freeBytes(dir: string): number | undefined {
  try {
    const s = fs.statfsSync(dir);
    return Number(s.bavail) * Number(s.bsize);
  } catch {
    return undefined;
  }
}

/** An absolute path from a release-relative one (`a/b/c`), refusing anything that would leave `root`. */
export function under(root: string, rel: string): string {
  const p = path.resolve(root, ...rel.split('/'));
  if (p !== root && !p.startsWith(root + path.sep)) throw new Error(`${rel}: outside ${root}`);
  return p;
}

export { isNoSpace } from '../index/errors';
