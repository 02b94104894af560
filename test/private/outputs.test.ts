/**
 * The `addOutputs()` methods of SecureApi and DataTier (DurableOrchestrator's are tested with it):
 * no output unless called, readable logical ids, descriptions, exports on request, and never a
 * secret's value.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import { DataTier, DataTierProfile } from '../../src/data-tier';
import { SecureApi } from '../../src/secure-api';

function outputsOf(stack: Stack): Record<string, any> {
  return Template.fromStack(stack).toJSON().Outputs ?? {};
}

describe('SecureApi.addOutputs', () => {
  test('none unless called; then the URL, the API id and the access log group', () => {
    const plain = new Stack(new App(), 'Plain');
    new SecureApi(plain, 'Api');
    expect(outputsOf(plain)).toEqual({});
    const stack = new Stack(new App(), 'Test');
    const api = new SecureApi(stack, 'Api');
    const outputs = api.addOutputs();
    expect(outputs.map((o) => stack.resolve(o.logicalId))).toEqual(['ApiUrl', 'ApiHttpApiId', 'ApiAccessLogGroupName']);
    expect(outputsOf(stack)).toEqual({
      ApiUrl: { Description: 'Base URL of the SecureApi Test/Api (ends in /)', Value: stack.resolve(api.url) },
      ApiHttpApiId: { Description: expect.stringContaining('SecureApi.fromSecureApiAttributes'), Value: { Ref: expect.stringMatching(/^ApiHttpApi/) } },
      ApiAccessLogGroupName: { Description: 'Access log group of the SecureApi Test/Api', Value: { Ref: expect.stringMatching(/^ApiAccessLogs/) } },
    });
  });

  test('with a custom domain the URL is the domain\'s; exports on request', () => {
    const stack = new Stack(new App(), 'Test');
    const api = new SecureApi(stack, 'FrontDoor', {
      domain: { domainName: 'api.example.com', certificate: acm.Certificate.fromCertificateArn(stack, 'Cert', 'arn:aws:acm:us-east-1:123456789012:certificate/abc') },
    });
    api.addOutputs({ outputIdPrefix: 'Front', exportNamePrefix: 'front-door' });
    const outputs = outputsOf(stack);
    expect(outputs.FrontUrl).toEqual({ Description: expect.any(String), Value: 'https://api.example.com/', Export: { Name: 'front-door-Url' } });
    expect(outputs.FrontHttpApiId.Export).toEqual({ Name: 'front-door-HttpApiId' });
  });

  test('called twice it says so', () => {
    const api = new SecureApi(new Stack(new App(), 'Test'), 'Api');
    api.addOutputs();
    expect(() => api.addOutputs()).toThrow(/^SecureApi.addOutputs: the outputs of Test\/Api were already added; call addOutputs\(\) once per construct$/);
  });
});

describe('DataTier.addOutputs', () => {
  test('endpoints, ports, the database name and the secrets\' ARNs; never a secret value', () => {
    const plain = new Stack(new App(), 'Plain');
    new DataTier(plain, 'Data');
    expect(outputsOf(plain)).toEqual({});
    const stack = new Stack(new App(), 'Test');
    const data = new DataTier(stack, 'Data');
    data.addOutputs();
    const outputs = outputsOf(stack);
    expect(Object.keys(outputs)).toEqual([
      'DataDatabaseEndpoint', 'DataDatabasePort', 'DataDatabaseName', 'DataDatabaseSecretArn', 'DataCacheEndpoint', 'DataCachePort', 'DataCacheAuthSecretArn',
    ]);
    expect(outputs.DataDatabaseEndpoint.Value).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^DataDatabase/), 'Endpoint.Address'] });
    expect(outputs.DataDatabasePort.Value).toBe('5432');
    expect(outputs.DataDatabaseName.Value).toBe('app');
    expect(outputs.DataDatabaseSecretArn.Value).toEqual({ Ref: expect.stringMatching(/^DataDatabaseSecretAttachment/) });
    expect(outputs.DataCacheEndpoint.Value).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^DataCache/), 'PrimaryEndPoint.Address'] });
    expect(outputs.DataCachePort.Value).toBe('6379');
    expect(outputs.DataCacheAuthSecretArn.Value).toEqual({ Ref: expect.stringMatching(/^DataCacheAuthToken/) });
    // A value read from a secret would render as a dynamic reference.
    expect(JSON.stringify(Object.values<any>(outputs).map((o) => o.Value))).not.toMatch(/resolve:secretsmanager|SecretString/);
    for (const o of Object.values<any>(outputs)) expect(o.Description.length).toBeGreaterThan(15);
  });

  test('an Aurora cluster\'s writer endpoint, under a prefix of your own', () => {
    const stack = new Stack(new App(), 'Test');
    const data = new DataTier(stack, 'Data', { profile: DataTierProfile.production() });
    data.addOutputs({ outputIdPrefix: 'Store' });
    const outputs = outputsOf(stack);
    expect(outputs.StoreDatabaseEndpoint).toEqual({
      Description: expect.stringContaining('the writer endpoint'),
      Value: { 'Fn::GetAtt': [expect.stringMatching(/^DataDatabase/), 'Endpoint.Address'] },
    });
  });

  test('a prefix that is not a logical id is refused', () => {
    const data = new DataTier(new Stack(new App(), 'Test'), 'Data');
    expect(() => data.addOutputs({ outputIdPrefix: '1data' })).toThrow(/^DataTier.addOutputs: outputIdPrefix '1data' must be a literal of letters and digits starting with a letter/);
  });
});
