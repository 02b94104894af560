import os
import unittest
from unittest import mock

from support import TempDirCase, envelope, kit, require_module


class LocalArtifactStoreTest(TempDirCase):
    def test_writes_a_key_as_a_file_below_the_folder_creating_folders_and_reads_it_back(self):
        store = kit.LocalArtifactStore(self.dir)
        store.write("agents/a/b/c.md", "héllo")
        with open(os.path.join(self.dir, "agents", "a", "b", "c.md"), encoding="utf-8") as f:
            self.assertEqual(f.read(), "héllo")
        self.assertEqual(store.read("agents/a/b/c.md"), "héllo")
        store.write("agents/a/b/c.md", b"\x00\x01")
        self.assertEqual(store.read_bytes("agents/a/b/c.md"), b"\x00\x01")
        self.assertEqual(sorted(os.listdir(os.path.join(self.dir, "agents", "a", "b"))), ["c.md"])  # no temporary file left

    def test_says_which_key_is_missing(self):
        with self.assertRaisesRegex(kit.ArtifactError, r"^artifact 'agents/none\.md' not found \(no file .*none\.md\)$"):
            kit.LocalArtifactStore(self.dir).read("agents/none.md")

    def test_refuses_keys_that_are_not_plain_relative_paths(self):
        store = kit.LocalArtifactStore(self.dir)
        for key in ("/etc/passwd", "agents/../x", "agents//x", "agents/./x", "a\\b", ""):
            with self.assertRaises(kit.ArtifactError, msg=key):
                store.write(key, "x")

    def test_refuses_an_artifact_larger_than_it_reads(self):
        store = kit.LocalArtifactStore(self.dir)
        store.write("agents/big.md", "x")
        with mock.patch.object(kit.artifacts, "MAX_READ_BYTES", 0):
            with self.assertRaisesRegex(kit.ArtifactError, "is 1 bytes; at most 0 are read"):
                store.read("agents/big.md")

    def test_fails_with_an_artifact_error_when_the_folder_cannot_be_written(self):
        blocker = os.path.join(self.dir, "file")
        with open(blocker, "w") as f:
            f.write("x")
        with self.assertRaisesRegex(kit.ArtifactError, r"^cannot write artifact 'agents/x\.md' to "):
            kit.LocalArtifactStore(blocker).write("agents/x.md", "x")


class ArtifactKeyTest(unittest.TestCase):
    def test_puts_the_file_under_the_envelope_prefix(self):
        env = envelope("http://127.0.0.1:9", "/tmp/x")
        self.assertEqual(kit.artifact_key(env, "research.md"), "agents/researcher/wf-python-kit/research/attempt-1/research.md")
        env["artifacts"]["prefix"] = "agents/p"
        self.assertEqual(kit.artifact_key(env, "r.md"), "agents/p/r.md")

    def test_chooses_s3_when_the_envelope_names_a_bucket_else_the_local_folder(self):
        env = envelope("http://127.0.0.1:9", "/tmp/x")
        self.assertIsInstance(kit.artifact_store_for(env), kit.LocalArtifactStore)
        env["artifacts"] = {"prefix": "agents/", "bucket": "my-bucket"}
        store = kit.artifact_store_for(env, s3_client=object())
        self.assertIsInstance(store, kit.S3ArtifactStore)
        self.assertEqual(store.description, "s3://my-bucket")


class S3ArtifactStoreTest(unittest.TestCase):
    """Against moto's in-process S3 (boto3 and moto from .ci/requirements-ci.txt)."""

    def setUp(self):
        self.moto = require_module(self, "moto")
        require_module(self, "boto3")
        self.env = mock.patch.dict(os.environ, {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                                                "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1"})
        self.env.start()
        self.mock = self.moto.mock_aws()
        self.mock.start()
        import boto3
        self.client = boto3.client("s3")
        self.client.create_bucket(Bucket="artifacts")

    def tearDown(self):
        self.mock.stop()
        self.env.stop()

    def test_writes_an_object_with_its_content_type_and_reads_it_back(self):
        store = kit.S3ArtifactStore("artifacts")  # the kit's own client, made at the first use
        store.write("agents/r/research.md", "# notes", "text/markdown; charset=utf-8")
        head = self.client.head_object(Bucket="artifacts", Key="agents/r/research.md")
        self.assertEqual(head["ContentType"], "text/markdown; charset=utf-8")
        self.assertEqual(store.read("agents/r/research.md"), "# notes")

    def test_says_which_key_is_missing_and_why_a_write_failed(self):
        store = kit.S3ArtifactStore("artifacts", self.client)
        with self.assertRaisesRegex(kit.ArtifactError, r"^artifact 'agents/none\.md' not found in s3://artifacts$"):
            store.read("agents/none.md")
        with self.assertRaisesRegex(kit.ArtifactError, r"^cannot write artifact s3://no-such-bucket/agents/x\.md: NoSuchBucket: "):
            kit.S3ArtifactStore("no-such-bucket", self.client).write("agents/x.md", "x")


if __name__ == "__main__":
    unittest.main()
