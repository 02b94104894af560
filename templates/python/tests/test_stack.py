import unittest

import aws_cdk as cdk
from aws_cdk.assertions import Template

from durable_agents_app.stack import DurableAgentsStack


class DurableAgentsStackTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.template = Template.from_stack(DurableAgentsStack(cdk.App(), "Test"))

    def test_three_agents_as_lambda_functions_from_images(self):
        images = self.template.find_resources("AWS::Lambda::Function", {"Properties": {"PackageType": "Image"}})
        self.assertEqual(len(images), 3)

    def test_images_built_by_codebuild_no_docker(self):
        self.template.resource_count_is("AWS::ECR::Repository", 3)
        self.template.resource_count_is("AWS::CodeBuild::Project", 3)

    def test_every_route_needs_iam_and_the_url_is_an_output(self):
        routes = self.template.find_resources("AWS::ApiGatewayV2::Route")
        self.assertTrue(routes)
        for route in routes.values():
            self.assertEqual(route["Properties"]["AuthorizationType"], "AWS_IAM")
        self.assertIn("ResearchApiUrl", self.template.find_outputs("ResearchApiUrl"))

    def test_no_vpc_no_nat_gateway(self):
        self.template.resource_count_is("AWS::EC2::VPC", 0)
        self.template.resource_count_is("AWS::EC2::NatGateway", 0)


if __name__ == "__main__":
    unittest.main()
