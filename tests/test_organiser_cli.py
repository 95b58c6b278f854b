"""`flask organiser tokens / revoke / password`: managing API tokens and passwords."""

from eventapp.extensions import db
from eventapp.services.backoffice import accounts


def test_tokens_can_be_listed_and_revoked(runner, make_organiser):
    organiser = make_organiser()
    first = runner.invoke(args=["organiser", "token", organiser.email, "--name", "ci"]).output
    runner.invoke(args=["organiser", "token", organiser.email, "--name", "laptop"])
    assert accounts.find_api_token(first.strip()).organiser.id == organiser.id

    listing = runner.invoke(args=["organiser", "tokens", organiser.email]).output
    assert "ci" in listing and "laptop" in listing and first.strip() not in listing
    token_id = int(listing.splitlines()[0].split("\t")[0])

    one = runner.invoke(args=["organiser", "revoke", organiser.email, "--id", str(token_id)])
    assert one.exit_code == 0 and "Revoked 1" in one.output
    db.session.expire_all()
    assert accounts.find_api_token(first.strip()) is None
    rest = runner.invoke(args=["organiser", "revoke", organiser.email])
    assert "Revoked 1" in rest.output
    assert "revoked" in runner.invoke(args=["organiser", "tokens", organiser.email]).output


def test_password_command_changes_the_password(runner, make_organiser, now):
    organiser = make_organiser()
    result = runner.invoke(
        args=["organiser", "password", organiser.email, "--password", "a brand new passphrase"]
    )
    assert result.exit_code == 0, result.output
    assert accounts.authenticate(organiser.email, "a brand new passphrase", now).id == organiser.id
    short = runner.invoke(args=["organiser", "password", organiser.email, "--password", "short"])
    assert short.exit_code != 0
    unknown = runner.invoke(args=["organiser", "revoke", "nobody@example.org"])
    assert unknown.exit_code != 0
