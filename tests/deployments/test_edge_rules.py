"""`_redirects` and `_headers`: parsing (with line-numbered errors) and edge matching.

Pure unit tests: no database, no Django. Every matching test goes through a JSON round
trip, as the rules do between packaging and the edge.
"""

import json
import random

import pytest

from deployments.rules import (
    MAX_LINE_LENGTH,
    MAX_RULES,
    RedirectMatch,
    Rules,
    RulesError,
    parse_headers,
    parse_redirects,
)


def no_files(path: str) -> bool:
    return False


def compiled(redirects: str = "", headers: str = "") -> Rules:
    stored = json.dumps([parse_redirects(redirects), parse_headers(headers)])
    return Rules.from_json(*json.loads(stored))


def match(
    redirects: str, path: str, query: dict[str, str] | str = "", exists=no_files
) -> RedirectMatch | None:
    return compiled(redirects).match_redirect(path, query, exists)


def target(redirects: str, path: str, query: dict[str, str] | str = "") -> str | None:
    found = match(redirects, path, query)
    return found.target if found else None


def redirects_error(text: str) -> RulesError:
    with pytest.raises(RulesError) as caught:
        parse_redirects(text)
    return caught.value


def headers_error(text: str) -> RulesError:
    with pytest.raises(RulesError) as caught:
        parse_headers(text)
    return caught.value


# --- _redirects: parsing --------------------------------------------------------------


def test_a_rule_parses_to_plain_json_with_netlify_defaults():
    assert parse_redirects("/home / \n") == [
        {
            "line": 1,
            "from": "/home",
            "query": {},
            "to": "/",
            "status": 301,
            "force": False,
            "conditions": {},
        }
    ]


def test_comments_blank_lines_and_indentation_are_ignored_and_lines_keep_their_numbers():
    text = "# moved pages\n\n   \n  /a /b 302   # temporary\n\t/c\t/d\n"
    rules = parse_redirects(text)
    assert [(r["line"], r["from"], r["to"], r["status"]) for r in rules] == [
        (4, "/a", "/b", 302),
        (5, "/c", "/d", 301),
    ]


def test_crlf_line_endings_and_a_byte_order_mark_are_accepted():
    rules = parse_redirects("\ufeff/a /b\r\n# c\r\n/c /d 302\r\n")
    assert [(r["line"], r["from"], r["to"], r["status"]) for r in rules] == [
        (1, "/a", "/b", 301),
        (3, "/c", "/d", 302),
    ]


def test_an_empty_file_has_no_rules():
    assert parse_redirects("") == []
    assert parse_redirects("# only a comment\n\n") == []


@pytest.mark.parametrize("status", [200, 301, 302, 303, 307, 308, 404])
@pytest.mark.parametrize("bang", ["", "!"])
def test_every_supported_status_parses_with_and_without_force(status, bang):
    (rule,) = parse_redirects(f"/a /b {status}{bang}")
    assert (rule["status"], rule["force"]) == (status, bang == "!")


def test_placeholders_splats_and_query_parameters_are_kept_as_written():
    (rule,) = parse_redirects("/news/:year/* tag=:tag page=2 /blog/:year/:tag/:splat 302")
    assert rule["from"] == "/news/:year/*"
    assert rule["query"] == {"tag": ":tag", "page": "2"}
    assert rule["to"] == "/blog/:year/:tag/:splat"


def test_conditions_are_parsed_with_canonical_names_and_value_lists():
    (rule,) = parse_redirects("/ /anz 302 Country=au,nz language=en Role=admin Cookie=beta")
    assert rule["conditions"] == {
        "Country": ["au", "nz"],
        "Language": ["en"],
        "Role": ["admin"],
        "Cookie": ["beta"],
    }
    (rule,) = parse_redirects("/ /us Country=us")  # status omitted: still 301
    assert (rule["status"], rule["conditions"]) == (301, {"Country": ["us"]})


def test_a_forward_rule_without_destination_rewrites_to_its_own_path():
    (rule,) = parse_redirects("/admin/* 200! Role=admin")
    assert (rule["to"], rule["status"], rule["force"]) == ("/admin/:splat", 200, True)
    (rule,) = parse_redirects("/app 200")
    assert rule["to"] == "/app"


def test_absolute_url_destinations_are_accepted_for_redirects():
    (rule,) = parse_redirects("/docs/* https://docs.example.com/:splat 302!")
    assert (rule["to"], rule["status"], rule["force"]) == (
        "https://docs.example.com/:splat",
        302,
        True,
    )


# --- _redirects: malformed lines ------------------------------------------------------


def test_the_error_names_the_file_and_line_and_is_a_value_error():
    error = redirects_error("# header\n\n/a /b 299\n")
    assert isinstance(error, ValueError)
    assert str(error) == "_redirects line 3: unknown status 299"
    assert (error.filename, error.line, error.reason) == ("_redirects", 3, "unknown_status")
    assert error.message == "unknown status 299"


@pytest.mark.parametrize(
    ("line", "reason", "words"),
    [
        ("/a", "missing_destination", "missing destination"),
        ("/a id=1", "missing_destination", "missing destination"),
        ("/a b", "bad_token", "got 'b'"),
        ("/a index.html", "bad_token", "got 'index.html'"),
        ("a /b", "bad_path", "must be a path starting with /"),
        ("https://old.example.com/* /new/:splat", "absolute_from", "domain-level"),
        ("/store?id=1 /blog", "query_in_path", "name=value"),
        ("/a/*/b /c", "bad_splat", "only allowed at the end"),
        ("/*/a /c", "bad_splat", "only allowed at the end"),
        ("/:1 /b", "bad_placeholder", "invalid placeholder ':1'"),
        ("/: /b", "bad_placeholder", "invalid placeholder"),
        ("/:a/:a /b", "bad_placeholder", ":a appears twice"),
        ("/:a a=:a /b", "bad_placeholder", ":a appears twice"),
        ("/a/:splat /b", "bad_placeholder", ":splat is reserved"),
        ("/a x=:splat /b", "bad_placeholder", ":splat is reserved"),
        ("/a =1 /b", "bad_query", "has no name"),
        ("/a x=1 x=2 /b", "bad_query", "'x' appears twice"),
        ("/a x=:1 /b", "bad_query", "invalid placeholder ':1'"),
        ("/a /b 299", "unknown_status", "unknown status 299"),
        ("/a /b 300", "unknown_status", "unknown status 300"),
        ("/a /b 410!", "unknown_status", "unknown status 410"),
        ("/a 500", "unknown_status", "unknown status 500"),
        ("/a /b 301!!", "bad_token", "got '301!!'"),
        ("/a /b permanent", "bad_token", "got 'permanent'"),
        ("/a /b 301 302", "misplaced_status", "right after the destination"),
        ("/a /b Country=us 302", "misplaced_status", "right after the destination"),
        ("/a /b 301 Planet=mars", "unknown_condition", "unknown condition 'Planet'"),
        ("/a /b 301 Sign=secret", "unknown_condition", "unknown condition 'Sign'"),
        ("/a /b 301 Country=", "bad_condition", "needs a value"),
        ("/a /b 301 Country=, Role=x", "bad_condition", "needs a value"),
        ("/a /b 301 Country=us country=ca", "bad_condition", "appears twice"),
        ("/api/* https://api.example.com/:splat 200", "proxy_unsupported", "proxy"),
        ("/api/* https://api.example.com/:splat 200!", "proxy_unsupported", "proxy"),
        ("/gone https://example.com/404.html 404", "proxy_unsupported", "must be a path"),
        ("/a //evil.example.com/ 301", "bad_destination", "protocol-relative"),
        ("/a https:///nohost", "bad_destination", "not a valid URL"),
        ("/a https://[::1/x", "bad_destination", "not a valid URL"),
        ("/a /a", "redirect_loop", "redirect to itself"),
        ("/a/ /a 302", "redirect_loop", "redirect to itself"),
        ("/a/:x /a/:x/ 302!", "redirect_loop", "redirect to itself"),
        ("/a/* 301", "redirect_loop", "redirect to itself"),
        ("/* /:splat", "redirect_loop", "redirect to itself"),
        ("/a /b\x00c", "control_character", "U+0000"),
        ("/a /b\rc", "control_character", "CR or LF"),
    ],
)
def test_a_malformed_redirect_line_fails_with_its_line_number(line, reason, words):
    error = redirects_error(f"# rules\n/ok /fine\n\n{line}\n/later /x\n")
    assert (error.filename, error.line, error.reason) == ("_redirects", 4, reason)
    assert str(error).startswith("_redirects line 4: ")
    assert words in error.message


def test_a_proxy_rule_error_says_it_is_unsupported():
    error = redirects_error("/api/* https://api.example.com/:splat 200")
    assert "not supported" in str(error)


def test_a_same_path_redirect_to_another_query_is_not_a_loop():
    (rule,) = parse_redirects("/search /search?page=1 302")
    assert rule["to"] == "/search?page=1"


def test_the_first_bad_line_is_reported():
    error = redirects_error("/a /b 299\n/c /d 298\n")
    assert error.line == 1


# --- Limits -------------------------------------------------------------------------


def test_a_thousand_redirect_rules_are_accepted_and_one_more_is_refused():
    rules = "".join(f"/old/{n} /new/{n}\n" for n in range(MAX_RULES))
    assert len(parse_redirects(rules)) == MAX_RULES
    error = redirects_error("# many\n" + rules + "\n/one/more /x\n")
    assert (error.line, error.reason) == (MAX_RULES + 3, "too_many")
    assert f"more than {MAX_RULES} rules" in str(error)


def test_comments_do_not_count_towards_the_rule_limit():
    rules = "".join(f"# rule {n}\n/old/{n} /new/{n}\n" for n in range(MAX_RULES))
    assert len(parse_redirects(rules)) == MAX_RULES


def test_lines_of_the_maximum_length_are_accepted_and_longer_ones_are_refused():
    padding = "x" * (MAX_LINE_LENGTH - len("/a /"))
    assert parse_redirects(f"/a /{padding}")[0]["to"] == f"/{padding}"
    error = redirects_error(f"/a /b\n/a /{padding}y\n")
    assert (error.line, error.reason) == (2, "line_too_long")
    assert str(error) == (
        f"_redirects line 2: line is {MAX_LINE_LENGTH + 1} characters long; "
        f"the limit is {MAX_LINE_LENGTH}"
    )


def test_a_too_long_comment_line_is_refused_too():
    assert redirects_error("#" * (MAX_LINE_LENGTH + 1)).reason == "line_too_long"
    assert headers_error("/a\n  #" + "x" * MAX_LINE_LENGTH).line == 2


def test_a_thousand_header_blocks_are_accepted_and_one_more_is_refused():
    blocks = "".join(f"/page/{n}\n  X-Page: {n}\n" for n in range(MAX_RULES))
    assert len(parse_headers(blocks)) == MAX_RULES
    error = headers_error(blocks + "/one/more\n  X-Page: x\n")
    assert (error.filename, error.line, error.reason) == ("_headers", 2 * MAX_RULES + 1, "too_many")


def test_a_too_long_header_line_is_refused():
    error = headers_error("/*\n  X-Long: " + "v" * MAX_LINE_LENGTH + "\n")
    assert (error.filename, error.line, error.reason) == ("_headers", 2, "line_too_long")


# --- _redirects: matching paths -----------------------------------------------------


def test_a_plain_rule_redirects_its_path_with_301_by_default():
    assert match("/home /", "/home") == RedirectMatch(301, "/", False, False, 1)
    assert match("/home /", "/homepage") is None
    assert match("/home /", "/") is None


def test_a_trailing_slash_is_ignored_on_both_sides():
    assert target("/blog /news", "/blog/") == "/news"
    assert target("/blog/ /news", "/blog") == "/news"
    assert target("/blog/:slug /news/:slug", "/blog/hello/") == "/news/hello"
    assert target("/ /home", "/") == "/home"


def test_matching_is_case_sensitive():
    assert target("/About /about", "/about") is None
    assert target("/About /about", "/About") == "/about"


def test_placeholders_match_one_segment_each_and_fill_the_destination():
    rules = "/news/:year/:month/:date/:slug /blog/:year/:month/:date/:slug"
    assert target(rules, "/news/2024/02/12/my-post") == "/blog/2024/02/12/my-post"
    assert target(rules, "/news/2024/02/12") is None
    assert target(rules, "/news/2024/02/12/my/post") is None


def test_placeholders_can_be_used_inside_a_destination_segment_and_reordered():
    rules = "/news/:year/:month/:date /blog-:date-:month-:year.html"
    assert target(rules, "/news/2024/02/12") == "/blog-12-02-2024.html"


def test_an_unknown_name_in_the_destination_is_left_as_written():
    assert target("/a/:x /b/:x/:nope/:splat", "/a/1") == "/b/1/:nope/:splat"
    assert target("/a /b/:a", "/a") == "/b/:a"


def test_a_splat_matches_everything_below_and_the_directory_itself():
    rules = "/news/* /blog/:splat"
    assert target(rules, "/news/2024/02/post") == "/blog/2024/02/post"
    assert target(rules, "/news/a") == "/blog/a"
    assert target(rules, "/news/") == "/blog/"
    assert target(rules, "/news") == "/blog/"
    assert target(rules, "/newsletter") is None


def test_a_splat_without_a_slash_matches_a_prefix():
    assert target("/news* /blog/:splat", "/newsletter/x") == "/blog/letter/x"


def test_a_root_splat_matches_every_path():
    rules = "/* /index.html 200"
    for path in ("/", "/a", "/a/b/c.html", "/a/"):
        assert match(rules, path) == RedirectMatch(200, "/index.html", True, False, 1)


def test_placeholders_and_splat_together():
    assert target("/:lang/docs/* /docs/:splat?lang=:lang 302", "/fr/docs/a/b") == (
        "/docs/a/b?lang=fr"
    )


def test_percent_encoded_patterns_match_decoded_paths():
    assert target("/caf%C3%A9 /coffee", "/café") == "/coffee"
    assert target("/café/* /coffee/:splat", "/café/menu") == "/coffee/menu"
    assert target("/a%20b /c", "/a b") == "/c"


def test_a_newline_in_the_path_does_not_slip_past_the_end_of_a_pattern():
    assert target("/a /b", "/a\n") is None
    assert target("/a/:x/b /c", "/a/x/b\n") is None
    assert target("/a/:x /b/:x", "/a/x\n") == "/b/x%0A"  # a segment may hold one, encoded
    assert target("/a/* /b/:splat", "/a/x\ny") == "/b/x%0Ay"


# --- _redirects: status codes ---------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirect_statuses_are_redirects(status):
    assert match(f"/a /b {status}", "/a") == RedirectMatch(status, "/b", False, False, 1)


def test_200_rewrites_to_another_path_of_the_deployment():
    assert match("/app/* /app/index.html 200", "/app/settings") == RedirectMatch(
        200, "/app/index.html", True, False, 1
    )


def test_404_serves_the_given_path_with_status_404():
    assert match("/en/* /en/404.html 404", "/en/missing") == RedirectMatch(
        404, "/en/404.html", True, False, 1
    )


def test_a_forward_rule_rewrites_to_the_requested_path():
    assert match("/app/* 200!", "/app/a/b") == RedirectMatch(200, "/app/a/b", True, True, 1)


# --- _redirects: query parameters -----------------------------------------------------


def test_a_query_placeholder_matches_any_value_and_fills_the_destination():
    rules = "/store id=:id /blog/:id 301"
    assert target(rules, "/store", "id=my-post") == "/blog/my-post?id=my-post"
    assert target(rules, "/store", {"id": "my-post"}) == "/blog/my-post?id=my-post"
    assert target(rules, "/store", "") is None
    assert target(rules, "/store", "other=1") is None
    assert target(rules, "/store", {}) is None


def test_all_query_parameters_are_required_and_extra_ones_are_allowed():
    rules = "/articles id=:id tag=:tag /posts/:tag/:id 302"
    assert target(rules, "/articles", "id=7") is None
    assert target(rules, "/articles", "tag=x&id=7&utm=y") == "/posts/x/7?tag=x&id=7&utm=y"


def test_a_literal_query_value_must_match_exactly():
    rules = "/search type=pdf /docs 302\n/search /everything 302"
    assert target(rules, "/search", "type=pdf") == "/docs?type=pdf"
    assert target(rules, "/search", "type=PDF") == "/everything?type=PDF"
    assert target(rules, "/search", "type=pdfs") == "/everything?type=pdfs"


def test_a_literal_query_value_is_compared_decoded():
    rules = "/search q=a%20b /found 302"
    assert target(rules, "/search", "q=a+b") == "/found?q=a+b"
    assert target(rules, "/search", {"q": "a b"}) == "/found?q=a+b"


def test_an_empty_literal_value_needs_the_parameter_with_an_empty_value():
    rules = "/a flag= /b 302"
    assert target(rules, "/a", "flag") == "/b?flag"
    assert target(rules, "/a", "flag=") == "/b?flag="
    assert target(rules, "/a", "flag=1") is None


def test_a_repeated_parameter_matches_on_its_first_value():
    assert target("/a id=:id /b/:id 302", "/a", "id=1&id=2") == "/b/1?id=1&id=2"


def test_query_values_are_percent_encoded_in_the_destination():
    rules = "/a q=:q /b/:q?q=:q 302"
    assert target(rules, "/a", {"q": "x y/z&w=1#f"}) == "/b/x%20y/z&w=1%23f?q=x%20y/z%26w%3D1%23f"


def test_a_raw_query_string_may_start_with_a_question_mark():
    assert target("/a id=:id /b/:id", "/a", "?id=3") == "/b/3?id=3"


# --- _redirects: the query string of redirects ------------------------------------------


def test_a_redirect_keeps_the_request_query_string_when_its_destination_has_none():
    assert target("/a /b 302", "/a", "x=1&y=%20") == "/b?x=1&y=%20"
    assert target("/a /b 302", "/a", {"x": "1", "y": " "}) == "/b?x=1&y=+"
    assert target("/a /b#top 302", "/a", "x=1") == "/b?x=1#top"
    assert target("/a https://example.com/b 302", "/a", "x=1") == "https://example.com/b?x=1"


def test_a_redirect_whose_destination_has_a_query_string_replaces_the_request_one():
    assert target("/a /b?from=a 302", "/a", "x=1") == "/b?from=a"


def test_a_rewrite_target_is_a_path_without_query():
    assert target("/a /b 200", "/a", "x=1") == "/b"
    assert target("/a /b?v=1#x 200", "/a", "x=1") == "/b"
    assert target("/a /missing 404", "/a", "x=1") == "/missing"


# --- _redirects: force and shadowing --------------------------------------------------


class Files:
    """A file_exists callable that records its calls."""

    def __init__(self, *paths: str) -> None:
        self.paths = set(paths)
        self.calls: list[str] = []

    def __call__(self, path: str) -> bool:
        self.calls.append(path)
        return path in self.paths


def test_a_rule_without_force_is_shadowed_by_an_existing_file():
    files = Files("/app/index.html")
    assert match("/app/* /app.html 200", "/app/index.html", exists=files) is None
    assert files.calls == ["/app/index.html"]
    assert target("/app/* /app.html 200", "/app/other") == "/app.html"


def test_a_forced_rule_applies_even_when_a_file_exists_and_does_not_ask():
    files = Files("/old.html")
    found = match("/old.html /new.html 301!", "/old.html", exists=files)
    assert found == RedirectMatch(301, "/new.html", False, True, 1)
    assert files.calls == []


def test_a_shadowed_rule_lets_a_later_forced_rule_apply():
    files = Files("/page")
    rules = "/page /shadowed 302\n/page /forced 302!"
    assert match(rules, "/page", exists=files).target == "/forced"


def test_file_existence_is_asked_once_per_request_and_only_for_matching_rules():
    files = Files()
    rules = compiled("/other /x\n/a /b 302\n/a /c 302\n/* /index.html 200")
    assert rules.match_redirect("/a", "", files).target == "/b"
    assert files.calls == ["/a"]
    files = Files("/a")
    assert rules.match_redirect("/a", "", files) is None
    assert files.calls == ["/a"]
    files = Files()
    assert rules.match_redirect("/a", "", files) is not None
    assert rules.match_redirect("/nothing", "", files).target == "/index.html"
    assert files.calls == ["/a", "/nothing"]


def test_a_rule_whose_query_does_not_match_does_not_ask_about_files():
    files = Files()
    assert match("/a id=:id /b 302", "/a", "", exists=files) is None
    assert files.calls == []


def test_a_custom_404_is_shadowed_by_an_existing_file_unless_forced():
    files = Files("/shop")
    assert match("/shop /closed.html 404", "/shop", exists=files) is None
    assert match("/shop /closed.html 404!", "/shop", exists=files).status == 404


# --- _redirects: order and conditions -------------------------------------------------


def test_the_first_matching_rule_wins():
    rules = "/a /first 302\n/a /second 302\n/* /catch-all 302"
    assert target(rules, "/a") == "/first"
    assert target(rules, "/b") == "/catch-all"


def test_file_order_is_kept_between_exact_and_pattern_rules():
    rules = "/x/1 /exact-one 302\n/x/* /pattern 302\n/x/2 /exact-two 302\n/x/:n /never 302"
    assert target(rules, "/x/1") == "/exact-one"
    assert target(rules, "/x/2") == "/pattern"
    rules = "/x/:n /placeholder 302\n/x/1 /exact 302"
    assert target(rules, "/x/1") == "/placeholder"


def test_file_order_is_kept_between_rules_for_any_path_and_rules_for_one_directory():
    rules = "/* /everything 302\n/a /never 302"
    assert target(rules, "/a") == "/everything"
    rules = "/a/:x /a-placeholder 302\n/:dir/* /any-dir 302\n/b/* /never 302\n/a/* /a-dir 302"
    assert target(rules, "/a/1") == "/a-placeholder"
    assert target(rules, "/a/1/2") == "/any-dir"
    assert target(rules, "/b/1") == "/any-dir"
    assert target(rules, "/c") == "/any-dir"


def test_an_encoded_slash_in_a_pattern_matches_a_decoded_one():
    assert target("/a%2Fb/* /c/:splat 302", "/a/b/x") == "/c/x"


def test_rules_for_the_same_path_are_told_apart_by_their_query():
    rules = "/s type=a /a 302\n/s type=b /b 302\n/s /plain 302"
    assert target(rules, "/s", "type=b") == "/b?type=b"
    assert target(rules, "/s", "type=a") == "/a?type=a"
    assert target(rules, "/s", "") == "/plain"


@pytest.mark.parametrize(
    "condition", ["Country=us", "Language=en", "Role=admin", "Cookie=beta", "country=US"]
)
def test_rules_with_conditions_never_match_here(condition):
    rules = f"/ /special 302 {condition}\n/ /home 302"
    assert target(rules, "/") == "/home"
    assert match(f"/admin/* 200! {condition}", "/admin/x") is None


def test_many_rules_still_find_the_first_match():
    exact = "".join(f"/old/{n} /new/{n} 301\n" for n in range(500))
    patterns = "".join(f"/p{n}/:x/* /q{n}/:x/:splat 302\n" for n in range(499))
    rules = compiled(exact + patterns + "/* /fallback 302")
    assert rules.match_redirect("/old/499/", "", no_files).target == "/new/499"
    assert rules.match_redirect("/p498/a/b/c", "", no_files).target == "/q498/a/b/c"
    assert rules.match_redirect("/elsewhere", "", no_files).target == "/fallback"


# --- _redirects: destinations -----------------------------------------------------------


def test_an_absolute_url_destination_gets_placeholders_and_the_query_string():
    rules = "/blog/:year/* https://blog.example.com/:year/:splat 301!"
    assert target(rules, "/blog/2024/a/b", "ref=x") == "https://blog.example.com/2024/a/b?ref=x"


def test_matched_values_are_percent_encoded_in_a_redirect_location():
    assert target("/go/* /to/:splat 302", "/go/a b?c#d%e") == "/to/a%20b%3Fc%23d%25e"
    assert target("/go/:x /to/:x 302", "/go/é") == "/to/%C3%A9"


def test_a_matched_value_cannot_turn_a_path_into_another_host():
    rules = "/go/* /:splat 302"
    assert target(rules, "/go//evil.example.com") == "/evil.example.com"
    assert target(rules, "/go/\\evil.example.com") == "/%5Cevil.example.com"
    assert target(rules, "/go///evil.example.com/x") == "/evil.example.com/x"


def test_a_literal_destination_is_encoded_as_a_valid_location():
    assert target("/a /caf%C3%A9 302", "/a") == "/caf%C3%A9"
    assert target("/a /café 302", "/a") == "/caf%C3%A9"
    assert target("/a https://bücher.example/ä 302", "/a") == (
        "https://xn--bcher-kva.example/%C3%A4"
    )


def test_a_rewrite_target_is_decoded_and_stays_inside_the_deployment():
    assert target("/a /caf%C3%A9.html 200", "/a") == "/café.html"
    assert target("/files/* /static/:splat 200", "/files/a b.txt") == "/static/a b.txt"
    assert target("/files/* /static/:splat 200", "/files/../../../etc/passwd") == "/etc/passwd"
    assert target("/files/* /static/:splat 200", "/files/x/./y//z/") == "/static/x/y/z/"


# --- _redirects: the JSON the edge stores ---------------------------------------------


def test_rules_compile_from_minimal_json():
    rules = Rules.from_json([{"from": "/a", "to": "/b"}], [{"for": "/a", "values": [["X", "1"]]}])
    assert rules.match_redirect("/a", "", no_files) == RedirectMatch(301, "/b", False, False, 0)
    assert rules.headers_for("/a") == (("X", "1"),)


def test_empty_rules_do_no_work():
    files = Files()
    for rules in (Rules.from_json([], []), Rules.from_json(), compiled("# nothing", "# none")):
        assert rules.match_redirect("/a", "x=1", files) is None
        assert rules.headers_for("/a") == ()
        assert rules.headers_for("/a") is rules.headers_for("/b")
    assert files.calls == []


# --- _headers: parsing ----------------------------------------------------------------


def test_header_blocks_parse_to_plain_json():
    text = (
        "# a path:\n"
        "/templates/index.html\n"
        "  # headers for that path:\n"
        "  X-Frame-Options: DENY\n"
        "  X-XSS-Protection: 1; mode=block\n"
        "\n"
        "/assets/*\t# long-lived\n"
        "\tCache-Control:public, max-age=31536000   \n"
        "  Link: <https://example.com/a.css>; rel=preload\n"
    )
    assert parse_headers(text) == [
        {
            "line": 2,
            "for": "/templates/index.html",
            "values": [["X-Frame-Options", "DENY"], ["X-XSS-Protection", "1; mode=block"]],
        },
        {
            "line": 7,
            "for": "/assets/*",
            "values": [
                ["Cache-Control", "public, max-age=31536000"],
                ["Link", "<https://example.com/a.css>; rel=preload"],
            ],
        },
    ]


def test_header_lines_without_indentation_are_accepted_as_on_netlify():
    assert parse_headers("/a\nX-Frame-Options: DENY\n") == [
        {"line": 1, "for": "/a", "values": [["X-Frame-Options", "DENY"]]}
    ]


def test_a_header_may_have_an_empty_value():
    assert parse_headers("/a\n  X-Empty:\n")[0]["values"] == [["X-Empty", ""]]


@pytest.mark.parametrize(
    ("lines", "line", "reason", "words"),
    [
        ("  X-Frame-Options: DENY", 2, "no_block", "outside a block"),
        ("/a\n  X-Frame-Options DENY", 3, "bad_header", "'Name: value'"),
        ("/a\n  blog/*", 3, "bad_header", "path starting with /"),
        ("/a\n  X Frame: DENY", 3, "bad_header_name", "invalid header name 'X Frame'"),
        ("/a\n  X-Frame : DENY", 3, "bad_header_name", "invalid header name 'X-Frame '"),
        ("/a\n  : DENY", 3, "bad_header_name", "invalid header name ''"),
        ("/a\n  X(Frame): DENY", 3, "bad_header_name", "invalid header name"),
        ("/a\n  Zwölf: 12", 3, "bad_header_name", "invalid header name"),
        ("/a\n  X-Bad: one\rSet-Cookie: x=1", 3, "control_character", "CR or LF"),
        ("/a\n  X-Bad: one\x00two", 3, "control_character", "U+0000"),
        ("/a\n  X-Bad: one\x7f", 3, "control_character", "U+007F"),
        ("/a\n  X-Author: José", 3, "bad_header_value", "non-ASCII"),
        ("/a\n  Content-Length: 0", 3, "reserved", "set by the server"),
        ("/a\n  transfer-encoding: chunked", 3, "reserved", "set by the server"),
        ("/a\n  Set-Cookie: sid=1; Domain=sites.localhost", 3, "cookie", "cannot be set"),
        ("/a\n  X: 1\n  SET-cookie: sid=1", 4, "cookie", "SET-cookie cannot be set"),
        ("https://example.com/*\n  X-Robots-Tag: noindex", 2, "absolute_from", "domain-level"),
        ("/a b\n  X: 1", 2, "bad_path", "unexpected 'b'"),
        ("/a?x=1\n  X: 1", 2, "query_in_path", "name=value"),
        ("/:1\n  X: 1", 2, "bad_placeholder", "invalid placeholder"),
        ("/a\x01\n  X: 1", 2, "control_character", "U+0001"),
    ],
)
def test_a_malformed_headers_line_fails_with_its_line_number(lines, line, reason, words):
    error = headers_error(f"# headers\n{lines}\n/later\n  X-Later: 1\n")
    assert (error.filename, error.line, error.reason) == ("_headers", line, reason)
    assert str(error).startswith(f"_headers line {line}: ")
    assert words in error.message


# --- _headers: matching ---------------------------------------------------------------


HEADERS = """\
/*
  X-Frame-Options: DENY
  Link: </site.css>; rel=preload
/blog/*
  Cache-Control: max-age=60
  link: </blog.css>; rel=preload
/blog/:slug/comments
  X-Comments: on
/*.jpg
  Cache-Control: immutable
/about
  X-About: yes
/about/
  X-About: again
"""


def headers(path: str, text: str = HEADERS) -> tuple[tuple[str, str], ...]:
    return compiled(headers=text).headers_for(path)


def test_all_matching_blocks_apply_in_order_and_repeated_headers_are_combined():
    assert headers("/blog/post") == (
        ("X-Frame-Options", "DENY"),
        ("Link", "</site.css>; rel=preload, </blog.css>; rel=preload"),
        ("Cache-Control", "max-age=60"),
    )


def test_a_splat_block_matches_its_directory_and_everything_below():
    assert ("Cache-Control", "max-age=60") in headers("/blog")
    assert ("Cache-Control", "max-age=60") in headers("/blog/")
    assert ("Cache-Control", "max-age=60") in headers("/blog/2024/a/b")
    assert ("Cache-Control", "max-age=60") not in headers("/blogroll")


def test_a_root_splat_block_matches_every_path():
    for path in ("/", "/a", "/a/b/c"):
        assert headers(path)[0] == ("X-Frame-Options", "DENY")


def test_placeholders_match_one_segment():
    assert ("X-Comments", "on") in headers("/blog/hello/comments")
    assert ("X-Comments", "on") in headers("/blog/hello/comments/")
    assert ("X-Comments", "on") not in headers("/blog/a/b/comments")


def test_a_star_inside_a_segment_matches_any_characters():
    assert headers("/photos/cat.jpg")[-1] == ("Cache-Control", "immutable")
    assert ("Cache-Control", "immutable") not in headers("/photos/cat.jpeg")
    assert ("Cache-Control", "max-age=60, immutable") in headers("/blog/cat.jpg")


def test_exact_paths_ignore_a_trailing_slash_and_blocks_for_the_same_path_combine():
    assert headers("/about")[-1] == ("X-About", "yes, again")
    assert headers("/about/")[-1] == ("X-About", "yes, again")
    assert ("X-About", "yes, again") not in headers("/about/team")


def test_blocks_for_one_path_and_for_any_path_keep_their_file_order():
    text = "/a\n  X: 1\n/*\n  X: 2\n/:dir\n  X: 3\n/b\n  X: 4\n"
    assert headers("/a", text) == (("X", "1, 2, 3"),)
    assert headers("/b", text) == (("X", "2, 3, 4"),)
    assert headers("/c", text) == (("X", "2, 3"),)
    assert headers("/", text) == (("X", "2"),)


def test_paths_that_match_nothing_get_no_headers():
    assert headers("/x", "/a\n  X: 1\n") == ()


def test_the_same_header_in_one_block_is_combined_too():
    text = "/*\n  Cache-Control: max-age=0\n  cache-control: no-cache\n  X-Empty:\n  X-Empty: v\n"
    assert headers("/", text) == (("Cache-Control", "max-age=0, no-cache"), ("X-Empty", "v"))


def test_set_cookie_stored_before_it_was_refused_is_never_sent():
    stored = [
        {"line": 1, "for": "/*", "values": [["Set-Cookie", "a=1"], ["X", "1"]]},
        {"line": 3, "for": "/a", "values": [["set-cookie", "b=2"]]},
    ]
    rules = Rules.from_json([], json.loads(json.dumps(stored)))
    assert rules.headers_for("/a") == (("X", "1"),)


def test_header_patterns_match_decoded_paths():
    assert headers("/café/menu", "/caf%C3%A9/*\n  X: 1\n") == (("X", "1"),)


def test_a_block_without_headers_changes_nothing():
    assert headers("/a", "/a\n/*\n  X: 1\n") == (("X", "1"),)


def test_a_single_block_result_is_computed_once():
    rules = compiled(headers="/*\n  X: 1\n")
    assert rules.headers_for("/a") is rules.headers_for("/b")


# --- The index agrees with trying the rules one by one ----------------------------------


PATTERNS = [
    "/",
    "/a",
    "/a/",
    "/a/b",
    "/a/b/c",
    "/%61/c",
    "/a/*",
    "/a*",
    "/*",
    "/:x",
    "/:x/b",
    "/a/:y",
    "/a/:y/*",
    "/b",
    "/b/*",
]
PATHS = ["/", "/a", "/a/", "/a/b", "/a/b/", "/a/b/c", "/a/c", "/ab", "/b", "/b/x", "/c", "/x/b"]


@pytest.mark.parametrize("seed", range(40))
def test_first_match_wins_exactly_as_when_rules_are_tried_one_by_one(seed):
    chance = random.Random(seed)
    lines = []
    for number in range(chance.randint(1, 14)):
        query = chance.choice(["", "", "q=1 ", "q=:q "])
        status = chance.choice(["302", "302!", "200", "200!"])
        lines.append(f"{chance.choice(PATTERNS)} {query}/t{number} {status}")
    existing = set(chance.sample(PATHS, 3))
    everything = compiled("\n".join(lines))
    one_by_one = [compiled(line) for line in lines]
    for path in PATHS:
        for query in ("", "q=1", "q=2"):
            expected = None
            for single in one_by_one:
                expected = single.match_redirect(path, query, existing.__contains__)
                if expected is not None:
                    break
            if expected is not None:  # a single rule's match keeps its own line number
                expected = RedirectMatch(
                    expected.status, expected.target, expected.rewrite, expected.force
                )
            found = everything.match_redirect(path, query, existing.__contains__)
            if found is not None:
                found = RedirectMatch(found.status, found.target, found.rewrite, found.force)
            assert found == expected, (lines, path, query)


@pytest.mark.parametrize("seed", range(40))
def test_all_matching_header_blocks_apply_exactly_as_when_tried_one_by_one(seed):
    chance = random.Random(seed)
    blocks = [
        f"{chance.choice(PATTERNS)}\n  X-Rule: {number}\n"
        for number in range(chance.randint(1, 14))
    ]
    everything = compiled(headers="".join(blocks))
    one_by_one = [compiled(headers=block) for block in blocks]
    for path in PATHS:
        values = [value for single in one_by_one for _, value in single.headers_for(path)]
        expected = (("X-Rule", ", ".join(values)),) if values else ()
        assert everything.headers_for(path) == expected, (blocks, path)
