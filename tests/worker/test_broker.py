"""The broker settings crash safety leans on (persistence/broker.py)."""

from persistence.broker import make_celery, time_limits, visibility_timeout
from persistence.settings import Settings


class TestTimeLimits:
    def test_the_hard_limit_follows_the_soft_one(self) -> None:
        soft, hard = time_limits(Settings(job_time_limit_seconds=3600))
        assert soft == 3600 and hard > soft

    def test_the_task_carries_them(self) -> None:
        from persistence.settings import get_settings
        from worker.tasks import run_job

        assert (run_job.soft_time_limit, run_job.time_limit) == time_limits(
            get_settings()
        )


class TestRedis:
    def test_a_message_stays_unacknowledged_past_the_longest_attempt(self) -> None:
        # acks_late holds the ack until the attempt ends; Redis must not hand
        # the message to another worker before the hard time limit could.
        settings = Settings(
            broker_url="redis://127.0.0.1:6379/9", job_time_limit_seconds=7200
        )
        app = make_celery(settings)
        timeout = app.conf.broker_transport_options["visibility_timeout"]
        assert timeout == visibility_timeout(settings) > time_limits(settings)[1]

    def test_a_lost_pool_process_frees_its_slot_at_once(self) -> None:
        app = make_celery(Settings(broker_url="redis://127.0.0.1:6379/9"))
        assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost
        assert app.conf.worker_lost_wait <= 1.0
