/**
 * Parameter names of implementations and overrides match the declaration they implement or
 * override, across src/ (jsii's Python bindings pass arguments by keyword; see parameter-names.ts).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createProgram, describeMismatch, findParameterNameMismatches, ParameterNameMismatch } from './parameter-names';

const ROOT = path.join(__dirname, '..', '..');
const SRC = path.join(ROOT, 'src') + path.sep;

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** The mismatches of a small program written to a temporary folder (one file per entry). */
function mismatchesOf(files: Record<string, string>): ParameterNameMismatch[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'param-names-'));
  try {
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
    const program = createProgram(Object.keys(files).map((f) => path.join(dir, f)), path.join(ROOT, 'tsconfig.json'));
    return findParameterNameMismatches(program, (s) => s.fileName.startsWith(dir.split(path.sep).join('/')) || s.fileName.startsWith(dir));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('the parameter-name check', () => {
  test('finds an implementation that renames an interface parameter (the ContainerAgent.bindDispatch case)', () => {
    const found = mismatchesOf({
      'agent-target.ts': 'export interface IDispatchableAgent { bindDispatch(scope: object, dispatcher: string): string; }\n',
      'container-agent.ts': "import { IDispatchableAgent } from './agent-target';\n" +
        'export class ContainerAgent implements IDispatchableAgent {\n' +
        '  public bindDispatch(_scope: object, dispatcher: string): string { return dispatcher; }\n' +
        '}\n',
    });
    expect(found).toEqual([expect.objectContaining({
      member: 'ContainerAgent.bindDispatch',
      declaredBy: 'IDispatchableAgent.bindDispatch',
      actual: ['_scope', 'dispatcher'],
      expected: ['scope', 'dispatcher'],
    })]);
    expect(describeMismatch(found[0])).toMatch(/container-agent\.ts:3: ContainerAgent\.bindDispatch\(_scope, dispatcher\) .* rename the parameters to scope, dispatcher/);
  });

  test('finds an abstract method overridden under another name, and an override of a concrete base method', () => {
    const found = mismatchesOf({
      'a.ts': 'export abstract class Destination { public abstract topicFor(scope: object): string; public describe(prefix: string): string { return prefix; } }\n' +
        'export class Email extends Destination { public topicFor(owner: object): string { return String(owner); } }\n' +
        'export class Chatty extends Email { public describe(text: string): string { return text; } }\n',
    });
    expect(found.map((m) => `${m.member} <- ${m.declaredBy}`).sort()).toEqual([
      'Chatty.describe <- Destination.describe',
      'Email.topicFor <- Destination.topicFor',
    ]);
  });

  test('finds an interface inherited through a base class and through an extended interface, and a missing parameter', () => {
    const found = mismatchesOf({
      'a.ts': 'export interface IBase { grant(grantee: string, actions: string): void; }\n' +
        'export interface IMore extends IBase { other(): void; }\n' +
        'export abstract class Base implements IMore { public abstract grant(grantee: string, actions: string): void; public other(): void {} }\n' +
        'export class Impl extends Base { public grant(who: string): void { void who; } }\n',
    });
    expect(found.map((m) => `${m.member} <- ${m.declaredBy}: ${m.actual.join(',')}`).sort()).toEqual([
      'Impl.grant <- Base.grant: who',
      'Impl.grant <- IBase.grant: who',
    ]);
  });

  test('accepts matching names, and ignores internal (underscore) and private members', () => {
    const found = mismatchesOf({
      'a.ts': 'export interface I { run(input: string): string; _bind(scope: object): void; }\n' +
        'export class C implements I { public run(input: string): string { return input; } public _bind(_scope: object): void {} }\n' +
        'export class D extends C { private helper(x: string): string { return x; } public run(input: string): string { return this.helper(input); } }\n',
    });
    expect(found).toEqual([]);
  });
});

test('no class or interface in src/ names a parameter unlike the declaration it implements or overrides', () => {
  const program = createProgram(sourceFiles(path.join(ROOT, 'src')), path.join(ROOT, 'tsconfig.json'));
  const found = findParameterNameMismatches(program, (s) => path.normalize(s.fileName).startsWith(SRC));
  expect(found.map(describeMismatch)).toEqual([]);
});
