/**
 * Finds methods whose parameter names differ from the declaration they implement or override.
 *
 * jsii's Python bindings pass arguments by keyword: `agent.bind_dispatch(scope=..., dispatcher=...)`
 * is generated from the interface, while the class's own method is generated from the class. When
 * `ContainerAgent.bindDispatch(_scope, ...)` implements `IDispatchableAgent.bindDispatch(scope, ...)`,
 * the call raises `TypeError` in Python (with jsii's type checks on) although TypeScript is content.
 * This walks the TypeScript sources with the compiler API (no `.jsii` needed), so it runs in `npm test`.
 */
import * as path from 'path';
import * as ts from 'typescript';

/** One method whose parameters are named unlike the declaration it implements or overrides. */
export interface ParameterNameMismatch {
  /** `Class.method`, where the method is declared. */
  readonly member: string;
  /** `Type.method` (an interface, or a base class), what it implements or overrides. */
  readonly declaredBy: string;
  /** `file:line` of the method. */
  readonly location: string;
  /** The implementation's parameter names. */
  readonly actual: string[];
  /** The declaration's parameter names. */
  readonly expected: string[];
}

/** A program over the given root files, with the compiler options of the given tsconfig. */
export function createProgram(rootFiles: string[], tsconfigPath: string, host?: ts.CompilerHost): ts.Program {
  const config = ts.readConfigFile(tsconfigPath, ts.sys.readFile);
  if (config.error) throw new Error(ts.flattenDiagnosticMessageText(config.error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, path.dirname(tsconfigPath));
  return ts.createProgram({ rootNames: rootFiles, options: { ...parsed.options, noEmit: true }, host });
}

const isMethodLike = (d: ts.Declaration): d is ts.MethodDeclaration | ts.MethodSignature =>
  ts.isMethodDeclaration(d) || ts.isMethodSignature(d);

const paramNames = (d: ts.SignatureDeclarationBase): string[] => d.parameters.map((p) => p.name.getText());

function isHidden(member: ts.ClassElement | ts.TypeElement): boolean {
  const name = member.name;
  if (!name || ts.isPrivateIdentifier(name)) return true;
  // Members whose name starts with an underscore are internal: jsii does not expose them.
  if (name.getText().startsWith('_')) return true;
  const modifiers = ts.canHaveModifiers(member) ? ts.getModifiers(member) ?? [] : [];
  return modifiers.some((m) => m.kind === ts.SyntaxKind.PrivateKeyword);
}

/**
 * Every type a class or interface declaration implements or extends, transitively: base classes,
 * implemented interfaces (also those of the base classes) and extended interfaces.
 */
function ancestorsOf(checker: ts.TypeChecker, decl: ts.ClassDeclaration | ts.InterfaceDeclaration): ts.Type[] {
  const seen = new Set<ts.Type>();
  const visit = (d: ts.ClassLikeDeclaration | ts.InterfaceDeclaration) => {
    for (const clause of d.heritageClauses ?? []) {
      for (const expr of clause.types) {
        const type = checker.getTypeAtLocation(expr);
        if (seen.has(type)) continue;
        seen.add(type);
        for (const baseDecl of type.getSymbol()?.getDeclarations() ?? []) {
          if (ts.isClassLike(baseDecl) || ts.isInterfaceDeclaration(baseDecl)) visit(baseDecl);
        }
      }
    }
  };
  visit(decl);
  return [...seen];
}

function typeName(decl: ts.Node): string {
  let n: ts.Node | undefined = decl;
  while (n && !(ts.isClassLike(n) || ts.isInterfaceDeclaration(n))) n = n.parent;
  return (n && n.name?.getText()) ?? '<anonymous>';
}

/** The mismatches of the classes and interfaces declared in the given files of the program. */
export function findParameterNameMismatches(program: ts.Program, files: (file: ts.SourceFile) => boolean): ParameterNameMismatch[] {
  const checker = program.getTypeChecker();
  const found: ParameterNameMismatch[] = [];
  const check = (decl: ts.ClassDeclaration | ts.InterfaceDeclaration) => {
    const ancestors = ancestorsOf(checker, decl);
    if (ancestors.length === 0) return;
    const members: ReadonlyArray<ts.ClassElement | ts.TypeElement> = decl.members;
    for (const member of members) {
      if (!(ts.isMethodDeclaration(member) || ts.isMethodSignature(member)) || isHidden(member)) continue;
      const name = member.name.getText();
      const actual = paramNames(member);
      for (const ancestor of ancestors) {
        const symbol = checker.getPropertyOfType(ancestor, name);
        for (const base of symbol?.getDeclarations() ?? []) {
          if (!isMethodLike(base) || base === member) continue;
          const expected = paramNames(base);
          if (expected.length === actual.length && expected.every((e, i) => e === actual[i])) continue;
          const source = member.getSourceFile();
          const line = source.getLineAndCharacterOfPosition(member.getStart()).line + 1;
          found.push({
            member: `${decl.name?.getText() ?? '<anonymous>'}.${name}`,
            declaredBy: `${typeName(base)}.${name}`,
            location: `${path.relative(process.cwd(), source.fileName)}:${line}`,
            actual,
            expected,
          });
        }
      }
    }
  };
  for (const source of program.getSourceFiles()) {
    if (source.isDeclarationFile || !files(source)) continue;
    const visit = (node: ts.Node): void => {
      if ((ts.isClassDeclaration(node) || ts.isInterfaceDeclaration(node))) check(node);
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  // One finding per (member, declaration): an interface reached along two paths is reported once.
  const unique = new Map(found.map((f) => [`${f.location} ${f.declaredBy}`, f]));
  return [...unique.values()];
}

/** A readable line per mismatch, for a failing test. */
export function describeMismatch(m: ParameterNameMismatch): string {
  return `${m.location}: ${m.member}(${m.actual.join(', ')}) implements or overrides ${m.declaredBy}(${m.expected.join(', ')}): ` +
    `rename the parameters to ${m.expected.join(', ')} (jsii's Python bindings pass arguments by name)`;
}
