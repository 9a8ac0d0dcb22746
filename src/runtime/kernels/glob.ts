// File-name patterns for `dataset glob="..."`: `*` and `?` within a name, `**` across folders,
// `[abc]` classes and `{a,b}` alternatives. (Node 20 has no fs.glob.)

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
