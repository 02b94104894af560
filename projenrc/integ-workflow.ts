import { github, javascript } from 'projen';

/** Options for {@link addIntegrationWorkflow}. */
export interface IntegrationWorkflowOptions {
  /** Node.js version used by the workflow. */
  readonly nodeVersion: string;
}

const ROLE_VARIABLE = 'AWS_INTEG_ROLE_ARN';
const REGION_VARIABLE = 'AWS_INTEG_REGION';

/**
 * `.github/workflows/integ.yml`: deploys every `integ/integ.*.ts` for real with
 * integ-runner, through OIDC, when the repository has a role configured in the
 * `AWS_INTEG_ROLE_ARN` variable. Without one it says so plainly and deploys nothing.
 */
export function addIntegrationWorkflow(project: javascript.NodeProject, options: IntegrationWorkflowOptions): void {
  const gh = project.github;
  if (!gh) {
    return;
  }
  const workflow = gh.addWorkflow('integ');
  workflow.on({
    workflowDispatch: {},
    push: { branches: ['main'] },
    schedule: [{ cron: '0 5 * * 1' }],
  });
  workflow.addJobs({
    integ: {
      name: 'Deploy integration tests',
      runsOn: ['ubuntu-latest'],
      permissions: { contents: github.workflows.JobPermission.READ, idToken: github.workflows.JobPermission.WRITE },
      concurrency: { group: 'integ', cancelInProgress: false },
      steps: [
        {
          name: 'Check for an AWS role',
          id: 'role',
          env: { ROLE_ARN: `\${{ vars.${ROLE_VARIABLE} }}` },
          run: [
            'if [ -z "$ROLE_ARN" ]; then',
            `  echo "::notice title=Integration tests not deployed::This repository has no ${ROLE_VARIABLE} variable, so no AWS account is configured. Snapshots are still checked by the build workflow. Set ${ROLE_VARIABLE} (an IAM role trusting GitHub OIDC) to deploy the integration tests for real."`,
            '  echo "configured=false" >> "$GITHUB_OUTPUT"',
            'else',
            '  echo "configured=true" >> "$GITHUB_OUTPUT"',
            'fi',
          ].join('\n'),
        },
        { name: 'Checkout', if: "steps.role.outputs.configured == 'true'", uses: 'actions/checkout@v5' },
        {
          name: 'Setup Node.js',
          if: "steps.role.outputs.configured == 'true'",
          uses: 'actions/setup-node@v5',
          with: { 'node-version': options.nodeVersion },
        },
        { name: 'Install dependencies', if: "steps.role.outputs.configured == 'true'", run: 'npm ci' },
        {
          name: 'Configure AWS credentials',
          if: "steps.role.outputs.configured == 'true'",
          uses: 'aws-actions/configure-aws-credentials@v5',
          with: {
            'role-to-assume': `\${{ vars.${ROLE_VARIABLE} }}`,
            'aws-region': `\${{ vars.${REGION_VARIABLE} || 'us-east-1' }}`,
            'role-session-name': 'cdk-durable-agents-integ',
          },
        },
        {
          name: 'Deploy integration tests',
          if: "steps.role.outputs.configured == 'true'",
          run: 'npx projen bundle && npx projen integ:deploy',
        },
      ],
    },
  });
}
