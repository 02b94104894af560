import * as fs from 'fs';
import * as path from 'path';
import { fixAbbreviations } from '../../projenrc/api-python';
import { propName, pythonName } from '../../src/contract/validate';

describe('pythonName', () => {
  test.each([
    ['timeout', 'timeout'],
    ['minSuccessful', 'min_successful'],
    ['memoryLimitMiB', 'memory_limit_mib'],
    ['controllerMemoryMiB', 'controller_memory_mib'],
    ['maxAzs', 'max_azs'],
    ['openAiCompatible', 'open_ai_compatible'],
    ['healthCheck.startPeriod', 'health_check.start_period'],
    ['alarms.errors.evaluationPeriods', 'alarms.errors.evaluation_periods'],
  ])('%s is %s', (ts, py) => {
    expect(pythonName(ts)).toBe(py);
  });

  test('API.python.md spells MiB names as the bindings do (jsii-docgen splits them: aws/jsii#3516)', () => {
    expect(fixAbbreviations('memory_limit_mi_b: int, controller_memory_mi_b, size_gi_b, alpha_ki_b; mi_b alone')).toBe(
      'memory_limit_mib: int, controller_memory_mib, size_gib, alpha_kib; mi_b alone');
  });

  test('agrees with jsii on every parameter and property of the generated Python API reference', () => {
    // API.python.md links each Python name to its TypeScript one: `...parameter.memoryLimitMiB">memory_limit_mib</a>`.
    const reference = fs.readFileSync(path.join(__dirname, '..', '..', 'API.python.md'), 'utf-8');
    const pairs = [...reference.matchAll(/\.(?:parameter|property)\.(\w+)">(\w+)<\/a>/g)].map((m) => [m[1], m[2]]);
    expect(pairs.length).toBeGreaterThan(500);
    const differ = pairs.filter(([ts, py]) => pythonName(ts) !== py && ts.toUpperCase() !== ts);
    expect(differ).toEqual([]);
  });
});

describe('propName', () => {
  test('gives the Python name beside the TypeScript one where they differ', () => {
    expect(propName('minSuccessful')).toBe('minSuccessful (min_successful in Python)');
    expect(propName('timeout')).toBe('timeout');
    expect(propName('retry maxAttempts')).toBe('retry maxAttempts (max_attempts in Python)');
  });
});
