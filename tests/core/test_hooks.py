import pytest

from core.hooks import Hook


def test_receivers_run_in_their_order_and_their_answers_come_back_by_name():
    hook = Hook("h")
    calls = []

    def late(**kw):
        calls.append(("late", kw))
        return "L"

    def early(**kw):
        calls.append(("early", kw))
        return "E"

    hook.connect(late, order=20)
    hook.connect(early, order=10)
    answers = hook.send(x=1)
    assert [name for name, _ in calls] == ["early", "late"]
    assert calls[0][1] == {"x": 1}
    assert list(answers.values()) == ["E", "L"]


def test_connecting_twice_runs_a_receiver_once():
    hook = Hook("h")
    seen = []

    def receiver(**kw):
        seen.append(1)

    hook.connect(receiver)
    hook.connect(receiver)
    hook.send()
    assert seen == [1]


def test_collect_joins_the_sets_receivers_return():
    hook = Hook("h")
    hook.connect(lambda **kw: {1, 2}, key="a")
    hook.connect(lambda **kw: None, key="b")
    hook.connect(lambda **kw: [2, 3], key="c")
    assert hook.collect() == {1, 2, 3}


def test_a_receiver_that_fails_stops_the_sender():
    hook = Hook("h")

    def broken(**kw):
        raise RuntimeError("no")

    hook.connect(broken)
    with pytest.raises(RuntimeError):
        hook.send()


def test_the_apps_connect_their_receivers_in_the_flow_order():
    from deduplication import hooks as dedup_hooks
    from identification import hooks as identification_hooks
    from reviews import hooks as review_hooks

    def apps(hook):
        return [key.split(".")[0] for key in hook.receivers]

    # Deduplication first: screening queues only the records that stay primary.
    assert apps(identification_hooks.records_imported) == ["deduplication", "screening"]
    assert apps(review_hooks.review_created) == ["screening"]
    assert apps(dedup_hooks.records_in_use) == ["screening"]
    assert apps(dedup_hooks.clusters_changed) == ["screening"]
