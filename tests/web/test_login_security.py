"""Sign-in and sign-out hold under attack: the failed-login count is one atomic UPDATE, so a
burst of wrong passwords locks the account and a right one hidden in the burst gets no
session; signing out ends the session on the server, so a copied cookie stops working."""

import threading

from flask import g

from eventapp.extensions import db
from eventapp.models import Organiser
from eventapp.services.backoffice import accounts
from tests.conftest import ORGANISER_PASSWORD

BURST = 10


def sign_in_at_once(monkeypatch, app, email: str, passwords: list[str]) -> list[int]:
    """POST the login form once per password, all released together, each its own client.

    No attempt goes on to its password check before every attempt of the burst has been
    counted and committed (the login view commits the count, then calls finish_login), so
    they are all in flight at once, as they are against a real server. A fixed sleep in the
    check was not enough: on a loaded machine the right password's check could finish
    before the other threads had counted theirs."""
    db.session.commit()
    released, all_counted = threading.Barrier(len(passwords)), threading.Barrier(len(passwords))
    statuses: list[int] = [0] * len(passwords)
    real_finish = accounts.finish_login

    def finish_when_all_counted(attempt, password, now):
        all_counted.wait(timeout=30)
        return real_finish(attempt, password, now)

    def attempt(index: int, password: str) -> None:
        client = app.test_client()
        released.wait(timeout=30)
        response = client.post("/organiser/login", data={"email": email, "password": password})
        statuses[index] = response.status_code

    threads = [
        threading.Thread(target=attempt, args=(index, password))
        for index, password in enumerate(passwords)
    ]
    with monkeypatch.context() as patch:
        patch.setattr(accounts, "finish_login", finish_when_all_counted)
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return statuses


def stored(organiser_id: int) -> Organiser:
    db.session.expire_all()
    return db.session.get(Organiser, organiser_id)


def test_ten_wrong_passwords_at_once_lock_the_account(app, make_organiser, monkeypatch, now):
    organiser = make_organiser()
    organiser_id, email = organiser.id, organiser.email
    statuses = sign_in_at_once(monkeypatch, app, email, ["not the password"] * BURST)
    assert statuses == [401] * BURST
    account = stored(organiser_id)
    assert account.failed_logins == BURST  # every attempt counted, none lost
    assert account.locked_until is not None
    g.pop("_login_user", None)
    right = app.test_client().post(
        "/organiser/login", data={"email": email, "password": ORGANISER_PASSWORD}
    )
    assert right.status_code == 401  # locked, even with the right password


def test_a_right_password_hidden_in_a_burst_of_wrong_ones_does_not_sign_in(
    app, make_organiser, monkeypatch
):
    organiser = make_organiser()
    organiser_id, email = organiser.id, organiser.email
    passwords = ["not the password"] * (BURST - 1)
    passwords.insert(BURST // 2, ORGANISER_PASSWORD)
    statuses = sign_in_at_once(monkeypatch, app, email, passwords)
    assert statuses == [401] * BURST, statuses
    assert stored(organiser_id).locked_until is not None


def test_four_wrong_then_the_right_password_signs_in(app, client, make_organiser):
    """One after another the rule is the familiar one: the lock needs five failures."""
    organiser = make_organiser()
    for _ in range(accounts.MAX_FAILED_LOGINS - 1):
        g.pop("_login_user", None)
        response = client.post(
            "/organiser/login", data={"email": organiser.email, "password": "not the password"}
        )
        assert response.status_code == 401
    g.pop("_login_user", None)
    response = client.post(
        "/organiser/login", data={"email": organiser.email, "password": ORGANISER_PASSWORD}
    )
    assert response.status_code == 302
    assert stored(organiser.id).failed_logins == 0


def test_a_copied_session_cookie_stops_working_after_sign_out(app, make_organiser, login, client):
    login(make_organiser())
    cookie = client.get_cookie("session")
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    g.pop("_login_user", None)
    assert thief.get("/organiser/").status_code == 200  # the copy works while signed in
    g.pop("_login_user", None)
    client.post("/organiser/logout", data={})
    g.pop("_login_user", None)
    db.session.expire_all()
    response = thief.get("/organiser/")
    assert response.status_code == 302
    assert "/organiser/login" in response.headers["Location"]


def refusal(client, email: str, password: str, address: str) -> str:
    g.pop("_login_user", None)
    response = client.post(
        "/organiser/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )
    assert response.status_code == 401
    return response.get_data(as_text=True).split("<main", 1)[-1]


def test_a_locked_account_answers_as_an_unknown_address_does(client, make_organiser):
    """Five wrong passwords used to turn the answer into "Too many failed attempts", which
    an unknown address never got: five tries told whether an address is an account."""
    client.get("/lang/en")
    email = make_organiser().email
    for number in range(accounts.MAX_FAILED_LOGINS):
        refusal(client, email, "not the password", f"192.0.2.{number + 1}")
    locked = refusal(client, email, "not the password", "192.0.2.100")
    for number in range(accounts.MAX_FAILED_LOGINS):
        refusal(client, "nobody@example.org", "not the password", f"192.0.2.{number + 1}")
    unknown = refusal(client, "nobody@example.org", "not the password", "192.0.2.100")
    assert locked.replace(email, "") == unknown.replace("nobody@example.org", "")


def test_a_right_password_refused_in_a_burst_is_not_told_apart_from_a_wrong_one(
    app, make_organiser, now
):
    """Attempts counted between a right password's count and its check refuse it; that
    refusal said "Too many failed attempts" while the wrong ones of the same burst said
    "Wrong email address or password": sending a guess together with a wrong password
    told whether the guess was the password."""
    organiser = make_organiser()
    with app.test_request_context(headers={"Accept-Language": "en"}):
        right = accounts.begin_login(organiser.email, now)
        wrong = accounts.begin_login(organiser.email, now)
        db.session.commit()
        answers = []
        for attempt, password in ((right, ORGANISER_PASSWORD), (wrong, "not the password")):
            try:
                accounts.finish_login(attempt, password, now)
            except accounts.InvalidCredentials as refused:
                answers.append(refused.message)
    assert len(answers) == 2 and answers[0] == answers[1]
