import * as http from 'http';
import type { AddressInfo } from 'net';
import { PriceTableFile, refreshPrices } from '../../projenrc/refresh-prices';

/** Hand-written offer files, in the bulk offer file format, served on loopback. */
const OFFERS: Record<string, unknown> = {
  '/offers/v1.0/aws/AmazonEC2/current/us-east-1/index.json': {
    products: {
      NAT1: { sku: 'NAT1', productFamily: 'NAT Gateway', attributes: { usagetype: 'NatGateway-Hours', location: 'US East (N. Virginia)' } },
      NATB: { sku: 'NATB', productFamily: 'NAT Gateway', attributes: { usagetype: 'NatGateway-Bytes' } },
      T4G: { sku: 'T4G', productFamily: 'Compute Instance', attributes: { instanceType: 't4g.nano', operatingSystem: 'Linux', tenancy: 'Shared', preInstalledSw: 'NA', capacitystatus: 'Used' } },
      T4GW: { sku: 'T4GW', productFamily: 'Compute Instance', attributes: { instanceType: 't4g.nano', operatingSystem: 'Windows', tenancy: 'Shared', preInstalledSw: 'NA', capacitystatus: 'Used' } },
    },
    terms: {
      OnDemand: {
        NAT1: { 'NAT1.JRTCKXETXF': { priceDimensions: { 'NAT1.JRTCKXETXF.6YS6EN2CT7': { unit: 'Hrs', pricePerUnit: { USD: '0.0450000000' } } } } },
        NATB: { 'NATB.JRTCKXETXF': { priceDimensions: { 'NATB.JRTCKXETXF.6YS6EN2CT7': { unit: 'GB', pricePerUnit: { USD: '0.0450000000' } } } } },
        T4GW: { 'T4GW.JRTCKXETXF': { priceDimensions: { x: { unit: 'Hrs', pricePerUnit: { USD: '0.0099000000' } } } } },
        T4G: { 'T4G.JRTCKXETXF': { priceDimensions: { y: { unit: 'Hrs', pricePerUnit: { USD: '0.0051000000' } } } } },
      },
    },
  },
  '/offers/v1.0/aws/AWSLambda/current/us-east-1/index.json': {
    products: {
      REQ: { sku: 'REQ', productFamily: 'Serverless', attributes: { usagetype: 'Request' } },
      ARM: { sku: 'ARM', productFamily: 'Serverless', attributes: { usagetype: 'USE1-Lambda-GB-Second-ARM' } },
    },
    terms: {
      OnDemand: {
        REQ: { 'REQ.T': { priceDimensions: { r: { unit: 'Requests', pricePerUnit: { USD: '0.0000002500' } } } } },
        ARM: {
          'ARM.T': {
            priceDimensions: {
              tier2: { unit: 'Lambda-GB-Second', beginRange: '7500000000', pricePerUnit: { USD: '0.0000120001' } },
              tier1: { unit: 'Lambda-GB-Second', beginRange: '0', pricePerUnit: { USD: '0.0000140000' } },
            },
          },
        },
      },
    },
  },
};

let server: http.Server;
let baseUrl: string;
const requested: string[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    requested.push(req.url ?? '');
    const body = OFFERS[req.url ?? ''];
    res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body ?? { message: 'not found' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const entry = (usd: number) => ({ usd, unit: 'u', source: 'old source' });

test('rebuilds the prices it has rules for from the offer files, keeps the rest, and stamps the date', async () => {
  const current: PriceTableFile = {
    date: '2026-01-01',
    currency: 'USD',
    hoursPerMonth: 730,
    regions: {
      'us-east-1': {
        'natGatewayHour': entry(1),
        'ec2InstanceHour/t4g.nano': entry(1),
        'lambdaRequestPerMillion': entry(1),
        'lambdaArmGbSecond': entry(1),
        'kmsKeyMonth': entry(1), // its offer file is not served: kept
        'wafWebAclMonth': entry(5), // no rule: kept
      },
    },
  };
  const { table, refreshed, kept } = await refreshPrices(current, baseUrl, '2026-12-06');
  const p = table.regions['us-east-1'];
  expect(table.date).toBe('2026-12-06');
  expect(p.natGatewayHour.usd).toBe(0.045); // the hourly product, not the per-GB one
  expect(p['ec2InstanceHour/t4g.nano'].usd).toBe(0.0051); // Linux, not Windows
  expect(p.lambdaRequestPerMillion.usd).toBeCloseTo(0.25, 10); // per request x 1e6
  expect(p.lambdaArmGbSecond.usd).toBe(0.000014); // the first tier
  expect(p.natGatewayHour.source).toBe(`AWS Price List API, ${baseUrl}/offers/v1.0/aws/AmazonEC2/current/us-east-1/index.json (SKU NAT1, on-demand, first tier), fetched 2026-12-06`);
  expect(p.natGatewayHour.unit).toBe('u');
  expect(p.kmsKeyMonth).toEqual(entry(1));
  expect(p.wafWebAclMonth).toEqual(entry(5));
  expect(refreshed.sort()).toEqual(['us-east-1.ec2InstanceHour/t4g.nano', 'us-east-1.lambdaArmGbSecond', 'us-east-1.lambdaRequestPerMillion', 'us-east-1.natGatewayHour']);
  expect(kept).toEqual([
    expect.stringMatching(/^us-east-1\.kmsKeyMonth: .*awskms\/current\/us-east-1\/index\.json: HTTP 404$/),
    'us-east-1.wafWebAclMonth: no Price List rule for it',
  ]);
  // Each offer file is fetched once per region.
  expect(requested.filter((u) => u.includes('AmazonEC2')).length).toBe(1);
});
