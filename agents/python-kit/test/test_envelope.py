import json
import unittest

from support import envelope, kit

BASE = "http://127.0.0.1:9"


def problems_of(value):
    try:
        kit.parse_envelope(value)
    except kit.EnvelopeError as e:
        return str(e)
    raise AssertionError("expected the envelope to be refused")


class ParseEnvelopeTest(unittest.TestCase):
    def valid(self):
        return envelope(BASE, "/tmp/artifacts")

    def test_accepts_a_valid_envelope_as_a_dict_json_text_or_bytes(self):
        valid = self.valid()
        self.assertEqual(kit.parse_envelope(valid), valid)
        self.assertEqual(kit.parse_envelope(json.dumps(valid)), valid)
        self.assertEqual(kit.parse_envelope(json.dumps(valid).encode()), valid)

    def test_ignores_fields_it_does_not_know(self):
        self.assertEqual(kit.parse_envelope({**self.valid(), "future_field": 1})["workflow_id"], "wf-python-kit")

    def test_names_a_missing_nested_field(self):
        value = self.valid()
        del value["callback"]["token"]
        self.assertEqual(problems_of(value), "invalid task envelope: field 'callback.token': expected a non-empty string, it is missing")

    def test_lists_every_problem_at_once(self):
        message = problems_of({**self.valid(), "workflow_id": "", "attempt": 0, "input": [], "deadline": "soon"})
        self.assertIn("field 'workflow_id': expected a non-empty string, got an empty string", message)
        self.assertIn("field 'attempt': expected a whole number from 1, got number 0", message)
        self.assertIn("field 'input': expected an object (the step input), got an array", message)
        self.assertIn("field 'deadline': expected an ISO 8601 timestamp, got the string \"soon\"", message)

    def test_problems_are_a_list_on_the_error(self):
        with self.assertRaises(kit.EnvelopeError) as caught:
            kit.parse_envelope({**self.valid(), "step_name": None, "agent": 7})
        self.assertEqual(caught.exception.problems, [
            "field 'step_name': expected a non-empty string, got null",
            "field 'agent': expected a non-empty string, got number 7",
        ])

    def test_a_boolean_is_not_a_whole_number(self):
        self.assertIn("field 'attempt': expected a whole number from 1, got boolean true", problems_of({**self.valid(), "attempt": True}))
        self.assertEqual(kit.parse_envelope({**self.valid(), "attempt": 2.0})["attempt"], 2.0)

    def test_refuses_another_envelope_version_saying_which_it_understands(self):
        self.assertIn("this agent understands version 1, got 2 (update the agent)", problems_of({**self.valid(), "envelope_version": 2}))
        self.assertIn("field 'envelope_version': expected 1, it is missing",
                      problems_of({k: v for k, v in self.valid().items() if k != "envelope_version"}))

    def test_needs_somewhere_to_write_artifacts(self):
        self.assertIn("neither 'bucket' (S3) nor 'local_dir'", problems_of({**self.valid(), "artifacts": {"prefix": "agents/x/"}}))
        self.assertIn("field 'artifacts.bucket': expected a non-empty string when present, got an empty string",
                      problems_of({**self.valid(), "artifacts": {"prefix": "agents/x/", "bucket": ""}}))

    def test_needs_an_http_callback_url_and_a_heartbeat_url_when_heartbeats_are_asked_for(self):
        valid = self.valid()
        self.assertIn("field 'callback.url': expected an http(s) URL",
                      problems_of({**valid, "callback": {**valid["callback"], "url": "ftp://x/y"}}))
        message = problems_of({**valid, "heartbeat_interval_seconds": 5, "callback": {**valid["callback"], "heartbeat_url": ""}})
        self.assertIn("field 'callback.heartbeat_url': expected an http(s) URL when heartbeat_interval_seconds is set", message)
        # Without heartbeats an empty heartbeat URL is fine (as the Node kit).
        self.assertEqual(kit.parse_envelope({**valid, "callback": {**valid["callback"], "heartbeat_url": ""}})["callback"]["heartbeat_url"], "")

    def test_a_heartbeat_interval_is_a_positive_number(self):
        for bad in (0, -1, "5", None, float("inf")):
            self.assertIn("field 'heartbeat_interval_seconds': expected a positive number of seconds when present",
                          problems_of({**self.valid(), "heartbeat_interval_seconds": bad}))
        self.assertEqual(kit.parse_envelope({**self.valid(), "heartbeat_interval_seconds": 0.5})["heartbeat_interval_seconds"], 0.5)

    def test_refuses_text_that_is_not_json_or_not_an_object(self):
        self.assertTrue(problems_of("{nope").startswith("invalid task envelope: the envelope is not valid JSON"))
        self.assertEqual(problems_of("[1]"), "invalid task envelope: expected a JSON object, got an array")
        self.assertEqual(problems_of(None), "invalid task envelope: expected a JSON object, got null")


class SalvageCallbackTest(unittest.TestCase):
    def test_finds_the_callback_of_an_envelope_that_is_broken_elsewhere(self):
        valid = envelope(BASE, "/tmp/x")
        broken = json.dumps({**valid, "workflow_id": None})
        self.assertEqual(kit.salvage_callback(broken), valid["callback"])

    def test_finds_nothing_without_a_url_and_a_token(self):
        self.assertIsNone(kit.salvage_callback({"callback": {"url": BASE + "/x"}}))
        self.assertIsNone(kit.salvage_callback("not json"))
        self.assertIsNone(kit.salvage_callback({"callback": {"url": "file:///x", "token": "t"}}))


if __name__ == "__main__":
    unittest.main()
