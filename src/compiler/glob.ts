// File-name patterns for `dataset glob="..."`: `*` and `?` within a name, `**` across folders,
// `[abc]` classes and `{a,b}` alternatives (Node 20 has no fs.glob). ONE implementation: the
// compiler hashes, and the dataset runner reads, exactly the files `datasetFiles` lists.

import { readdirSync, statSync } from 'node:fs';
import { extname, join, sep } from 'node:path';

/** Extensions lvi reads as images (see src/runtime/image). */
export const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);

/**
 * The images of a dataset folder that match a glob, as names relative to the folder ('/'
 * separators), sorted. Throws a message saying why none is found.
 */
export function datasetFiles(dir: string, glob: string): string[] {
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new Error(`dataset folder ${dir} does not exist`);
  }
  if (!isDir) throw new Error(`dataset folder ${dir} is a file, not a folder`);
  const pattern = globToRegExp(glob);
  const recursive = glob.includes('/');
  const names = (readdirSync(dir, { recursive }) as string[]).map((n) => n.split(sep).join('/')).sort();
  const matching = names.filter((n) => pattern.test(n) && statSync(join(dir, n)).isFile());
  const images = matching.filter((n) => IMAGE_EXTENSIONS.has(extname(n).toLowerCase()));
  if (images.length === 0) {
    const why =
      matching.length > 0
        ? `${matching.length} file(s) match glob "${glob}" but none is a PNG or JPEG (e.g. ${matching[0]})`
        : `no file matches glob "${glob}"${names.length ? ` among its ${names.length} entries` : ' (the folder is empty)'}`;
    throw new Error(`dataset folder ${dir} has no images: ${why}`);
  }
  return images;
}

export function globToRegExp(glob: string): RegExp {
  let re = '';
  let inClass = false;
  let braces = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (inClass) {
      if (c === ']') inClass = false;
      re += c === '\\' ? '\\\\' : c;
      continue;
    }
    switch (c) {
      case '*':
        if (glob[i + 1] === '*') {
          // `**/` matches any number of folders, including none.
          i++;
          if (glob[i + 1] === '/') {
            i++;
            re += '(?:[^/]*/)*';
          } else re += '.*';
        } else re += '[^/]*';
        break;
      case '?':
        re += '[^/]';
        break;
      case '[':
        inClass = true;
        re += glob[i + 1] === '!' ? (i++, '[^') : '[';
        break;
      case '{':
        braces++;
        re += '(?:';
        break;
      case '}':
        if (braces > 0) {
          braces--;
          re += ')';
        } else re += '\\}';
        break;
      case ',':
        re += braces > 0 ? '|' : ',';
        break;
      default:
        re += /[.+^$()|\\]/.test(c) ? `\\${c}` : c;
    }
  }
  if (inClass || braces > 0) throw new Error(`glob "${glob}" has an unclosed ${inClass ? '[' : '{'}`);
  return new RegExp(`^${re}$`);
}
