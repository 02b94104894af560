import time
import unittest

from support import LoopbackServer, envelope, iso, kit, quiet_logger, require_module, wait_until


class PostCallbackTest(unittest.TestCase):
    def setUp(self):
        self.statuses = []
        self.server = LoopbackServer(lambda req: (self.statuses.pop(0) if self.statuses else 200, {"message": "answer"}))
        self.pauses = []
        self.logger = quiet_logger()

    def tearDown(self):
        self.server.close()

    def options(self, **kw):
        defaults = dict(sleep=self.pauses.append, random=lambda: 0.5)
        defaults.update(kw)
        return kit.DeliveryOptions(**defaults)

    def post(self, deadline=None, **kw):
        return kit.post_callback(self.server.url + "/callbacks/cb-1", "tok-secret", {"status": "succeeded", "artifacts": {}},
                                 deadline or time.time() + 300, self.logger, "report", self.options(**kw))

    def test_posts_the_body_once_with_the_token_unsigned_over_http_and_reports_it_accepted(self):
        delivery = self.post()
        self.assertEqual(delivery, kit.Delivery("accepted", 1, 200))
        [req] = self.server.requests
        self.assertEqual((req.method, req.path), ("POST", "/callbacks/cb-1"))
        self.assertEqual(req.headers["x-callback-token"], "tok-secret")
        self.assertEqual(req.headers["content-type"], "application/json")
        self.assertNotIn("authorization", req.headers)
        self.assertEqual(req.json(), {"status": "succeeded", "artifacts": {}})
        self.assertNotIn("tok-secret", repr(self.logger.lines))

    def test_a_503_is_retried_with_the_same_body_then_accepted(self):
        self.statuses = [503, 429, 408]
        delivery = self.post()
        self.assertEqual((delivery.outcome, delivery.attempts, delivery.status), ("accepted", 4, 200))
        self.assertEqual(len({r.body for r in self.server.requests}), 1)
        self.assertEqual(len(self.server.requests), 4)

    def test_a_4xx_is_final_and_never_retried(self):
        for status in (400, 401, 403, 404, 409):
            self.server.requests.clear()
            self.statuses = [status]
            delivery = self.post()
            self.assertEqual((delivery.outcome, delivery.status, delivery.message, delivery.attempts), ("refused", status, "answer", 1))
            self.assertEqual(len(self.server.requests), 1)
        self.assertIn("report refused; not retrying (a 409 is final)", [l["message"] for l in self.logger.lines])

    def test_backs_off_exponentially_with_jitter_between_half_and_all_of_each_step(self):
        self.statuses = [500] * 10
        delivery = self.post(random=lambda: 0.0, base_delay=0.5, max_delay=3.0)
        self.assertEqual((delivery.outcome, delivery.attempts, delivery.status), ("undelivered", 5, 500))
        self.assertEqual(self.pauses, [0.25, 0.5, 1.0, 1.5])
        self.pauses.clear()
        self.post(random=lambda: 0.999999, base_delay=0.5, max_delay=3.0)
        self.assertEqual([round(p, 3) for p in self.pauses], [0.5, 1.0, 2.0, 3.0])

    def test_retries_network_errors_and_gives_up_when_the_next_try_would_come_too_close_to_the_deadline(self):
        closed = LoopbackServer()
        url = closed.url
        closed.close()
        now = [1000.0]

        def sleep(seconds):
            self.pauses.append(seconds)
            now[0] += seconds

        delivery = kit.post_callback(url + "/callbacks/cb-1", "t", {}, 1000.0 + 4.0, self.logger, "report",
                                     kit.DeliveryOptions(sleep=sleep, random=lambda: 1.0, clock=lambda: now[0], request_timeout=2))
        # Pauses 0.5 and 1 fit before the deadline less its margin (3 s); the next, 2, does not.
        self.assertEqual(delivery.outcome, "undelivered")
        self.assertEqual(delivery.attempts, 3)
        self.assertEqual(self.pauses, [0.5, 1.0])
        self.assertIn("request failed", delivery.message)
        self.assertIn("report failed; no time left before the deadline for another try", [l["message"] for l in self.logger.lines])

    def test_a_request_that_times_out_is_retried(self):
        import threading
        release = threading.Event()

        def slow(req):
            if len(self.server.requests) == 1:
                release.wait(5)
            return 200, {}

        self.server.script = slow
        try:
            delivery = self.post(request_timeout=0.2)
        finally:
            release.set()
        self.assertEqual((delivery.outcome, delivery.attempts), ("accepted", 2))
        self.assertEqual(len(self.pauses), 1)


class SigningTest(unittest.TestCase):
    def setUp(self):
        require_module(self, "botocore")
        self.sent = []
        self.logger = quiet_logger()

    def send(self, method, url, headers, body, timeout):
        self.sent.append((method, url, dict(headers), body))
        return kit.callback.HttpAnswer(200, b"{}")

    def test_signs_https_requests_with_sigv4_when_credentials_are_found_and_only_then(self):
        creds = kit.StaticCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token")
        url = "https://abc123.execute-api.eu-west-1.amazonaws.com/callbacks/cb-1"
        delivery = kit.post_callback(url, "tok", {"status": "succeeded"}, time.time() + 60, self.logger, "report",
                                     kit.DeliveryOptions(send=self.send, credentials=creds, env={}))
        self.assertEqual(delivery.outcome, "accepted")
        method, sent_url, headers, body = self.sent[0]
        self.assertEqual((method, sent_url), ("POST", url))
        auth = headers["Authorization"]
        self.assertRegex(auth, r"^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/\d{8}/eu-west-1/execute-api/aws4_request, "
                               r"SignedHeaders=[a-z0-9;-]*x-callback-token[a-z0-9;-]*, Signature=[0-9a-f]{64}$")
        self.assertIn("host", auth.split("SignedHeaders=")[1].split(",")[0].split(";"))
        self.assertRegex(headers["X-Amz-Date"], r"^\d{8}T\d{6}Z$")
        self.assertEqual(headers["X-Amz-Security-Token"], "session-token")
        self.assertEqual(headers["x-callback-token"], "tok")
        self.assertEqual(body, b'{"status":"succeeded"}')

        # Plain http (the local server) is never signed, even with credentials.
        kit.post_callback("http://127.0.0.1:9/callbacks/cb-1", "tok", {}, time.time() + 60, self.logger, "report",
                          kit.DeliveryOptions(send=self.send, credentials=creds, env={}))
        self.assertNotIn("Authorization", self.sent[1][2])

    def test_the_signature_is_the_one_sigv4_gives(self):
        """The signature derived here from the SigV4 specification, by hand (hashlib and hmac)."""
        import hashlib
        import hmac
        creds = kit.StaticCredentials("AKID", "SECRET")
        headers = kit.sign_request("POST", "https://h.example.com/callbacks/x?b=2&a=1",
                                   {"content-type": "application/json", "x-callback-token": "tok"}, b"{}", creds, "us-east-1")
        amz_date = headers["X-Amz-Date"]
        day = amz_date[:8]
        signed = headers["Authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
        self.assertEqual(signed, ["content-type", "host", "x-amz-date", "x-callback-token"])
        values = {"content-type": "application/json", "host": "h.example.com", "x-amz-date": amz_date, "x-callback-token": "tok"}
        canonical = "\n".join([
            "POST", "/callbacks/x", "a=1&b=2",
            "".join("%s:%s\n" % (h, values[h]) for h in signed),
            ";".join(signed),
            hashlib.sha256(b"{}").hexdigest(),
        ])
        scope = "%s/us-east-1/execute-api/aws4_request" % day
        string_to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
        key = b"AWS4SECRET"
        for part in (day, "us-east-1", "execute-api", "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
        self.assertEqual(headers["Authorization"],
                         "AWS4-HMAC-SHA256 Credential=AKID/%s, SignedHeaders=%s, Signature=%s" % (scope, ";".join(signed), expected))

    def test_without_credentials_https_goes_unsigned_with_a_warning(self):
        class Nothing:
            missing_reason = "no AWS credentials found"

            def resolve(self):
                return None

        kit.post_callback("https://x.execute-api.eu-west-1.amazonaws.com/cb", "tok", {}, time.time() + 60, self.logger, "report",
                          kit.DeliveryOptions(send=self.send, credentials=Nothing(), env={}))
        self.assertNotIn("Authorization", self.sent[0][2])
        self.assertIn("no AWS credentials found: sending the report to x.execute-api.eu-west-1.amazonaws.com unsigned "
                      "(an IAM-authorized route will refuse it)", [l["message"] for l in self.logger.lines])

    def test_the_default_chain_finds_environment_keys_and_signs_for_the_region_of_the_host(self):
        botocore_session = require_module(self, "botocore.session")
        from unittest import mock
        env = {"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_CONFIG_FILE": "/nonexistent",
               "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true"}
        with mock.patch.dict("os.environ", env, clear=True):
            resolver = kit.CredentialResolver(botocore_session.Session())
            kit.post_callback("https://abc.execute-api.ap-south-1.amazonaws.com/callbacks/cb", "tok", {}, time.time() + 60,
                              self.logger, "report", kit.DeliveryOptions(send=self.send, credentials=resolver, env={}))
        self.assertIn("Credential=AKIDENV/", self.sent[0][2]["Authorization"])
        self.assertIn("/ap-south-1/execute-api/aws4_request", self.sent[0][2]["Authorization"])

    def test_credentials_without_a_region_are_not_sent(self):
        creds = kit.StaticCredentials("AKID", "SECRET")
        delivery = kit.post_callback("https://callbacks.example.com/cb", "tok", {}, time.time() + 60, self.logger, "report",
                                     kit.DeliveryOptions(send=self.send, credentials=creds, env={}, max_attempts=1))
        self.assertEqual(delivery.outcome, "undelivered")
        self.assertEqual(delivery.message, "cannot sign the report for callbacks.example.com: set AWS_REGION")
        self.assertEqual(self.sent, [])


class SigningRegionTest(unittest.TestCase):
    def test_region_from_the_environment_or_the_execute_api_host(self):
        host = "https://abc.execute-api.eu-central-1.amazonaws.com/x"
        self.assertEqual(kit.signing_region(host, {}), "eu-central-1")
        self.assertEqual(kit.signing_region(host, {"AWS_DEFAULT_REGION": "us-west-2"}), "us-west-2")
        self.assertEqual(kit.signing_region(host, {"AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-west-2"}), "us-east-1")
        self.assertIsNone(kit.signing_region("https://example.com/x", {}))


class HeartbeatsTest(unittest.TestCase):
    def setUp(self):
        self.answer = 200
        self.server = LoopbackServer(lambda req: (self.answer, {"message": "no longer waiting"}))
        self.logger = quiet_logger()

    def tearDown(self):
        self.server.close()

    def test_beats_at_the_interval_with_the_token_until_stopped(self):
        env = envelope(self.server.url, "/tmp/x", heartbeat_interval_seconds=0.05)
        beats = kit.start_heartbeats(env, self.logger)
        try:
            wait_until(lambda: len(self.server.requests) >= 3, 10, "three heartbeats")
        finally:
            beats.stop()
        count = len(self.server.requests)
        for req in self.server.requests:
            self.assertEqual((req.path, req.headers["x-callback-token"], req.json()), ("/callbacks/cb-1/heartbeat", "tok-secret", {}))
        # Stopped: a beat asked for now sends nothing.
        self.assertIsNone(beats.beat())
        self.assertLessEqual(len(self.server.requests), count + 1)

    def test_stops_and_sets_gone_when_the_orchestrator_no_longer_waits(self):
        self.answer = 409
        env = envelope(self.server.url, "/tmp/x", heartbeat_interval_seconds=0.05)
        beats = kit.start_heartbeats(env, self.logger)
        self.assertTrue(beats.gone.wait(10))
        self.assertEqual(beats.gone_reason, "the orchestrator no longer waits for this task: no longer waiting")
        self.assertEqual(len(self.server.requests), 1)

    def test_another_4xx_stops_them_without_gone(self):
        self.answer = 403
        beats = kit.start_heartbeats(envelope(self.server.url, "/tmp/x", heartbeat_interval_seconds=0.05), self.logger)
        wait_until(lambda: beats._stopped.is_set(), 10, "heartbeats stopped")
        self.assertFalse(beats.gone.is_set())

    def test_sends_nothing_when_the_envelope_asks_for_no_heartbeats(self):
        beats = kit.start_heartbeats(envelope(self.server.url, "/tmp/x"), self.logger)
        self.assertFalse(beats.enabled)
        beats.stop()
        self.assertEqual(self.server.requests, [])

    def test_a_beat_is_tried_twice_at_most(self):
        self.answer = 503
        env = envelope(self.server.url, "/tmp/x", heartbeat_interval_seconds=30, deadline=iso(300))
        beats = kit.Heartbeats(env, self.logger, kit.DeliveryOptions(sleep=lambda s: None))
        delivery = beats.beat()
        self.assertEqual((delivery.outcome, delivery.attempts), ("undelivered", 2))


if __name__ == "__main__":
    unittest.main()
