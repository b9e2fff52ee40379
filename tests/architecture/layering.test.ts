/**
 * The layering rules (.dependency-cruiser.cjs) hold for the repository, and they do catch what
 * they forbid: a fixture tree with a cycle, an impure domain module, and an edge and a CLI command calling a use case.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const CONFIG = path.join(ROOT, '.dependency-cruiser.cjs');
const DEPCRUISE = path.join(ROOT, 'node_modules/.bin/depcruise');

function cruise(cwd: string, folders: string[]) {
  const run = spawnSync(DEPCRUISE, ['--config', CONFIG, '--output-type', 'err', ...folders], { cwd, encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('layering', () => {
  it('the repository keeps every rule', () => {
    const { status, output } = cruise(ROOT, ['cli', 'services', 'shared', 'local', 'infra', 'bench', 'simulators', 'events-schema']);
    expect(output).toMatch(/no dependency violations found/);
    expect(status).toBe(0);
  });

  it('fails on a cycle, an impure domain module, an edge that calls a use case and a CLI that does', () => {
    const { status, output } = cruise(path.join(__dirname, 'fixtures'), ['shared', 'cli']);
    expect(status).not.toBe(0);
    expect(output).toMatch(/no-cycles: shared\/usecases\/(first|second)\.ts/);
    expect(output).toMatch(/domain-is-pure: shared\/domain\/impure\.ts → shared\/adapters\/s3\/store\.ts/);
    expect(output).toMatch(/edges-call-no-usecase: shared\/edges\/callsUseCase\.ts → shared\/usecases\/first\.ts/);
    expect(output).toMatch(/cli-is-an-http-client: cli\/callsUseCase\.ts → shared\/usecases\/first\.ts/);
  });
});
