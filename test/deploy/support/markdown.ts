/** Markdown helpers for the guide walkers: links and fenced code blocks, read the way GitHub renders them. */

/** Targets of inline links `[text](target)` outside code fences and code spans. */
export function markdownLinks(markdown: string): string[] {
  const prose = stripCode(markdown);
  return [...prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((match) => match[1]!);
}

export interface CodeBlock {
  lang: string;
  /** the info string after the language, e.g. `file=examples/x.yaml` */
  info: string;
  code: string;
  /** 1-based line of the opening fence */
  line: number;
  /** the nearest heading above the block */
  heading: string;
}

export function codeBlocks(markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = markdown.split('\n');
  let heading = '';
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i]!;
    const fence = /^(\s*)(```+)\s*([\w+-]*)\s*(.*)$/.exec(line);
    if (!fence) {
      const h = /^#{1,6}\s+(.*)$/.exec(line);
      if (h) heading = h[1]!.trim();
      continue;
    }
    const indent = fence[1]!.length;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !lines[j]!.trim().startsWith(fence[2]!); j += 1) body.push(lines[j]!.slice(indent));
    blocks.push({ lang: fence[3]!.toLowerCase(), info: fence[4]!.trim(), code: body.join('\n'), line: i + 1, heading });
    i = j;
  }
  return blocks;
}

/** `## <heading>` texts, in order. */
export function headings(markdown: string, level = 2): string[] {
  const prefix = `${'#'.repeat(level)} `;
  return stripCode(markdown)
    .split('\n')
    .filter((line) => line.startsWith(prefix))
    .map((line) => line.slice(prefix.length).trim());
}

function stripCode(markdown: string): string {
  return markdown.replace(/^\s*```[\s\S]*?^\s*```/gm, '').replace(/`[^`\n]*`/g, '');
}
