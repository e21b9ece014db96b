import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserCommand, openBrowser, splitCommandLine } from '../../src/adapters/browser/index.js';

let dir: string;
const URL_WITH_AMP = 'http://127.0.0.1:9/authorize?a=1&state=S&scope=openid%20x';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'browser-'));
  await writeFile(join(dir, 'record.mjs'), `import { writeFileSync } from 'node:fs';\nwriteFileSync(process.argv[2], JSON.stringify(process.argv.slice(3)));\n`);
  await writeFile(join(dir, 'fail.mjs'), `process.exit(3);\n`);
  await writeFile(join(dir, 'linger.mjs'), `setTimeout(() => {}, 3000);\n`);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('browserCommand', () => {
  it('BROWSER with arguments gets the URL appended, or put where %s is', () => {
    expect(browserCommand(URL_WITH_AMP, { BROWSER: 'firefox --new-window' }, 'linux')).toEqual({ command: 'firefox', args: ['--new-window', URL_WITH_AMP] });
    expect(browserCommand(URL_WITH_AMP, { BROWSER: `"/opt/my browser/run" --url=%s --x` }, 'linux')).toEqual({
      command: '/opt/my browser/run',
      args: [`--url=${URL_WITH_AMP}`, '--x'],
    });
  });
  it('falls back to the OS opener; nothing on a Linux without a display', () => {
    expect(browserCommand(URL_WITH_AMP, {}, 'darwin')).toEqual({ command: 'open', args: [URL_WITH_AMP] });
    expect(browserCommand(URL_WITH_AMP, {}, 'win32')).toEqual({ command: 'rundll32', args: ['url.dll,FileProtocolHandler', URL_WITH_AMP] });
    expect(browserCommand(URL_WITH_AMP, { DISPLAY: ':0' }, 'linux')).toEqual({ command: 'xdg-open', args: [URL_WITH_AMP] });
    expect(browserCommand(URL_WITH_AMP, {}, 'linux')).toBeUndefined();
  });
  it('splitCommandLine groups quotes and keeps empty quoted words', () => {
    expect(splitCommandLine(`a 'b c' "d'e" ""`)).toEqual(['a', 'b c', "d'e", '']);
  });
});

describe('openBrowser', () => {
  it('runs BROWSER without a shell: the URL arrives as one argument, & and all', async () => {
    const out = join(dir, 'argv.json');
    await openBrowser(URL_WITH_AMP, { env: { PATH: process.env.PATH, BROWSER: `${process.execPath} ${join(dir, 'record.mjs')} ${out}` } });
    expect(JSON.parse(await readFile(out, 'utf8'))).toEqual([URL_WITH_AMP]);
  });

  it('a launcher exiting non-zero in the window means "could not open a browser"', async () => {
    const error = await openBrowser(URL_WITH_AMP, { providerId: 'p', env: { BROWSER: `${process.execPath} ${join(dir, 'fail.mjs')}` } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'config', providerId: 'p' });
    expect((error as Error).message).toContain('could not open a browser');
    expect((error as Error).message).not.toContain('state=S');
  });

  it('a missing command is reported the same way', async () => {
    const error = await openBrowser(URL_WITH_AMP, { env: { BROWSER: join(dir, 'no-such-browser') } }).catch((e: unknown) => e);
    expect((error as Error).message).toContain('could not open a browser (');
    expect((error as Error).message).toContain('ENOENT');
  });

  it('no display and no BROWSER: rejects without spawning anything', async () => {
    const error = await openBrowser(URL_WITH_AMP, { env: {}, platform: 'linux' }).catch((e: unknown) => e);
    expect((error as Error).message).toContain('no graphical session');
  });

  it('a browser that stays open past the window counts as opened', async () => {
    await expect(
      openBrowser(URL_WITH_AMP, { env: { BROWSER: `${process.execPath} ${join(dir, 'linger.mjs')}` }, failureWindowMs: 200 }),
    ).resolves.toBeUndefined();
  });
});
