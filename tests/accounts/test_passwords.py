"""core.auth.passwords: validators, bcrypt hashing off the event loop, dummy_verify."""
import asyncio
import os
import sys
import threading

import bcrypt
import pytest

from core.auth import passwords
from core.auth.passwords import (PasswordError, common_passwords, dummy_verify, hash_password,
                                 needs_rehash, validate_password, verify_password)
from core.models import ValidationError


def messages(password, **kwargs):
    with pytest.raises(PasswordError) as info:
        validate_password(password, **kwargs)
    return info.value.messages


def test_a_good_password_passes():
    assert validate_password("plum-harbour-velvet", username="alice",
                             email="alice@example.com") is None


def test_too_short():
    assert messages("tiny-pw1") == [
        "This password is too short: it must contain at least 10 characters."]
    assert validate_password("x7#kq!m2zp") is None      # exactly 10 is enough


def test_entirely_numeric():
    assert "This password is entirely numeric." in messages("83920174659213")


def test_too_common():
    assert messages("Password123") == ["This password is too common."]   # case-insensitive
    assert messages("qwertyuiop") == ["This password is too common."]
    assert len(common_passwords()) >= 300


def test_too_similar_to_username_email_and_its_local_part():
    assert messages("jonathan.harker", username="jonathan.harker") == [
        "This password is too similar to the username."]
    assert messages("mina-murray-9", email="mina.murray@whitby.example") == [
        "This password is too similar to the email address."]
    # a part of the username is enough (split on non-word characters)
    assert messages("renfieldxyz", username="r.m.renfield") == [
        "This password is too similar to the username."]
    assert validate_password("plum-harbour-velvet", username="jonathan",
                             email="jonathan@example.com") is None


def test_longer_than_72_bytes_is_refused_counting_utf8_bytes():
    assert messages("a" * 73) == ["This password is too long: at most 72 bytes (UTF-8) are "
                                  "allowed."]
    assert validate_password("a1b2" * 18) is None                       # 72 bytes: fine
    assert "too long" in messages("é" * 37)[0]                           # 37 chars, 74 bytes


def test_every_broken_rule_is_listed_and_it_is_a_validation_error():
    with pytest.raises(PasswordError) as info:
        validate_password("12345")
    error = info.value
    assert error.messages == [
        "This password is too short: it must contain at least 10 characters.",
        "This password is entirely numeric.",
        "This password is too common."]
    assert isinstance(error, ValidationError)
    assert error.errors == {"password": " ".join(error.messages)}
    assert str(error) == " ".join(error.messages)


def test_not_a_string():
    assert messages(None) == ["Enter a password."]


async def test_hash_and_verify_round_trip_uses_the_settings_rounds():
    hashed = await hash_password("plum-harbour-velvet")
    assert hashed.startswith("$2b$04$")                  # settings.test: BCRYPT_ROUNDS = 4
    assert await verify_password("plum-harbour-velvet", hashed) is True
    assert await verify_password("plum-harbour-velvex", hashed) is False
    assert (await hash_password("x", rounds=5)).startswith("$2b$05$")
    assert hashed != await hash_password("plum-harbour-velvet")   # a fresh salt each time


async def test_verify_is_false_for_malformed_hashes_and_long_passwords():
    hashed = await hash_password("plum-harbour-velvet")
    assert await verify_password("plum-harbour-velvet", "") is False
    assert await verify_password("plum-harbour-velvet", None) is False
    assert await verify_password("plum-harbour-velvet", "$2b$04$broken") is False
    assert await verify_password("plum-harbour-velvet", "md5$abc") is False
    assert await verify_password("a" * 100, hashed) is False
    assert await verify_password(None, hashed) is False


async def test_hashing_more_than_72_bytes_is_refused():
    with pytest.raises(PasswordError, match="too long"):
        await hash_password("b" * 73)


async def test_dummy_verify_does_a_real_bcrypt_check(monkeypatch):
    calls = []
    real = bcrypt.checkpw

    def spy(password, hashed):
        calls.append(hashed[:7])
        return real(password, hashed)

    monkeypatch.setattr(passwords.bcrypt, "checkpw", spy)
    assert await dummy_verify() is False
    assert calls == [b"$2b$04$"]                         # same work factor as real hashes


async def test_bcrypt_runs_in_a_worker_thread_not_on_the_loop(monkeypatch):
    loop_thread = threading.get_ident()
    threads = []
    real_hash, real_check = bcrypt.hashpw, bcrypt.checkpw

    def hash_spy(*args):
        threads.append(("hashpw", threading.get_ident()))
        return real_hash(*args)

    def check_spy(*args):
        threads.append(("checkpw", threading.get_ident()))
        return real_check(*args)

    monkeypatch.setattr(passwords.bcrypt, "hashpw", hash_spy)
    monkeypatch.setattr(passwords.bcrypt, "checkpw", check_spy)
    hashed = await hash_password("plum-harbour-velvet")
    await verify_password("plum-harbour-velvet", hashed)
    await dummy_verify()
    assert {name for name, _ in threads} == {"hashpw", "checkpw"}
    assert all(ident != loop_thread for _, ident in threads), threads


async def test_the_loop_keeps_running_while_a_slow_hash_is_computed():
    ticks = 0
    done = asyncio.Event()

    async def ticker():
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0.005)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    start_ticks = ticks
    await hash_password("plum-harbour-velvet", rounds=12)   # ~0.2 s of bcrypt work
    done.set()
    await task
    assert ticks - start_ticks >= 3          # the loop ran the ticker during the hash


def test_needs_rehash():
    hashed = bcrypt.hashpw(b"x", bcrypt.gensalt(5)).decode()
    assert needs_rehash(hashed) is True                  # settings say 4
    assert needs_rehash(hashed, rounds=5) is False
    assert needs_rehash("not a hash") is True


@pytest.mark.skipif(not sys.platform.startswith("linux"),
                    reason="per-thread CPU priority is a Linux feature")
async def test_bcrypt_threads_run_at_a_lower_cpu_priority_than_the_event_loop():
    """During a login storm the scheduler serves the loop's thread before bcrypt's."""
    def niceness():
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    loop_nice = niceness()
    loop = asyncio.get_running_loop()
    worker_nice = await loop.run_in_executor(passwords.bcrypt_executor(), niceness)
    assert worker_nice == min(19, loop_nice + passwords.BCRYPT_THREAD_NICENESS)
    assert niceness() == loop_nice                   # the loop's thread is left as it was
