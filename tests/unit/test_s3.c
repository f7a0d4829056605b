/* Unit tests for the pure parts of s3.c: s3:// locations, SigV4's encoding
 * and sorted query strings, the XML tag extractor on S3's own answers,
 * ~/.aws files and the order in which flags, AWS_* variables and files
 * decide the settings. Transfers are tested against a real server in
 * tests/integration/test_s3.sh. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cwld/s3.h"
#include "testutil.h"

static void
test_s3_uri(void **state)
{
	struct cwld_err err = { 0, "" };
	char *b, *k;

	(void)state;
	assert_int_equal(s3_uri_parse("s3://my-bucket/a/b c.txt", &b, &k,
	    &err), 0);
	assert_string_equal(b, "my-bucket");
	assert_string_equal(k, "a/b c.txt");
	free(b);
	free(k);
	assert_int_equal(s3_uri_parse("s3://bkt", &b, &k, &err), 0);
	assert_string_equal(b, "bkt");
	assert_string_equal(k, "");
	free(b);
	free(k);
	assert_int_equal(s3_uri_parse("s3://bkt/dir/", &b, &k, &err), 0);
	assert_string_equal(k, "dir/");
	free(b);
	free(k);

	assert_int_equal(s3_uri_parse("file:///x", &b, &k, &err), -1);
	assert_non_null(strstr(err.msg, "not an s3:// location"));
	assert_null(b);
	assert_int_equal(s3_uri_parse("s3://ab/k", &b, &k, &err), -1);
	assert_non_null(strstr(err.msg, "3 to 63"));
	assert_int_equal(s3_uri_parse("s3:///k", &b, &k, &err), -1);
	assert_int_equal(s3_uri_parse("s3://bad!name/k", &b, &k, &err), -1);
	assert_non_null(strstr(err.msg, "invalid character '!'"));
	assert_int_equal(s3_uri_parse("s3://bkt/k?x=1", &b, &k, &err), -1);

	k = s3_uri_make("bkt", "a/b");
	assert_string_equal(k, "s3://bkt/a/b");
	free(k);
}

static void
test_s3_encode_and_query(void **state)
{
	struct s3_param p[] = {
		{ "prefix", "dir/a b+c" },
		{ "list-type", "2" },
		{ "continuation-token", "1/xY+z=" },
		{ "max-keys", "2" },
		{ "delimiter", "/" },
	};
	struct s3_param up[] = { { "uploads", NULL } };
	struct s3_param part[] = {
		{ "uploadId", "a.b_c~d" },
		{ "partNumber", "10" },
	};
	char *s;

	(void)state;
	s = s3_uri_encode("a b/c+d~e_f.g-h%é", 1);
	assert_string_equal(s, "a%20b/c%2Bd~e_f.g-h%25%C3%A9");
	free(s);
	s = s3_uri_encode("a/b", 0);
	assert_string_equal(s, "a%2Fb");
	free(s);

	/* sorted by name, values encoded, '/' too */
	s = s3_query(p, 5);
	assert_string_equal(s, "continuation-token=1%2FxY%2Bz%3D&delimiter=%2F"
	    "&list-type=2&max-keys=2&prefix=dir%2Fa%20b%2Bc");
	free(s);
	/* a parameter without a value is written "name=" */
	s = s3_query(up, 1);
	assert_string_equal(s, "uploads=");
	free(s);
	/* upper case sorts before lower case (byte order) */
	s = s3_query(part, 2);
	assert_string_equal(s, "partNumber=10&uploadId=a.b_c~d");
	free(s);
	s = s3_query(NULL, 0);
	assert_string_equal(s, "");
	free(s);
}

/* A ListObjectsV2 page as S3 writes it (xmlns on the root, entities in
 * keys and ETags, a KeyCount that must not be taken for Key). */
static const char list_page[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    "<Name>bkt</Name><Prefix>dir/</Prefix><KeyCount>2</KeyCount>"
    "<MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated>"
    "<Contents><Key>dir/a&amp;b &lt;1&gt;.txt</Key>"
    "<LastModified>2026-11-27T12:00:00.000Z</LastModified>"
    "<ETag>&quot;b1946ac92492d2347c6235b4d2611184&quot;</ETag>"
    "<Size>6</Size><StorageClass>STANDARD</StorageClass></Contents>"
    "<Contents>\n  <Key>dir/caf&#233;&#x20AC;</Key>\n  <Size>1048576</Size>"
    "<ETag>\"x-2\"</ETag></Contents>"
    "<CommonPrefixes><Prefix>dir/sub/</Prefix></CommonPrefixes>"
    "<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="
    "</NextContinuationToken><StartAfter/></ListBucketResult>";

static void
test_s3_xml(void **state)
{
	size_t len = strlen(list_page), pos = 0, n;
	const char *in;
	char *v;
	int count = 0;

	(void)state;
	v = s3_xml_text(list_page, len, "IsTruncated");
	assert_string_equal(v, "true");
	free(v);
	v = s3_xml_text(list_page, len, "NextContinuationToken");
	assert_string_equal(v, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
	free(v);
	/* the first <Prefix> is the request's, not a CommonPrefixes one */
	v = s3_xml_text(list_page, len, "Prefix");
	assert_string_equal(v, "dir/");
	free(v);
	v = s3_xml_text(list_page, len, "StartAfter");
	assert_string_equal(v, "");
	free(v);
	assert_null(s3_xml_text(list_page, len, "Missing"));
	/* the root carries attributes */
	v = s3_xml_text(list_page, len, "ListBucketResult");
	assert_non_null(v);
	free(v);

	while (s3_xml_next(list_page, len, "Contents", &pos, &in, &n)) {
		char *key = s3_xml_text(in, n, "Key");
		char *size = s3_xml_text(in, n, "Size");
		char *etag = s3_xml_text(in, n, "ETag");

		if (count == 0) {
			assert_string_equal(key, "dir/a&b <1>.txt");
			assert_string_equal(size, "6");
			assert_string_equal(etag,
			    "\"b1946ac92492d2347c6235b4d2611184\"");
		} else {
			assert_string_equal(key, "dir/caf\xc3\xa9\xe2\x82\xac");
			assert_string_equal(size, "1048576");
			assert_string_equal(etag, "\"x-2\"");
		}
		free(key);
		free(size);
		free(etag);
		count++;
	}
	assert_int_equal(count, 2);

	/* an error answer; a cut one finds nothing rather than overrunning */
	{
		static const char e[] = "<?xml version=\"1.0\"?><Error><Code>"
		    "NoSuchKey</Code><Message>The specified key does not "
		    "exist.</Message><Key>a</Key></Error>";

		v = s3_xml_text(e, strlen(e), "Code");
		assert_string_equal(v, "NoSuchKey");
		free(v);
		v = s3_xml_text(e, strlen(e), "Message");
		assert_string_equal(v, "The specified key does not exist.");
		free(v);
		assert_null(s3_xml_text(e, 30, "Code"));
		assert_null(s3_xml_text(e, strlen(e) - 30, "Message"));
		assert_null(s3_xml_text("<Code", 5, "Code"));
		assert_null(s3_xml_text("", 0, "Code"));
	}
	/* unknown or broken entities stay as written */
	v = s3_xml_text("<K>a&nbsp;b&#xZZ;&#0;&amp</K>", 29, "K");
	assert_string_equal(v, "a&nbsp;b&#xZZ;&#0;&amp");
	free(v);

	v = s3_xml_escape("\"e&t\" <'x'>");
	assert_string_equal(v, "&quot;e&amp;t&quot; &lt;&apos;x&apos;&gt;");
	free(v);
}

static const char creds_file[] =
    "# a comment\n"
    "[default]\n"
    "aws_access_key_id = AKDEFAULT\n"
    "aws_secret_access_key=secret/default+1\n"
    "\n"
    "; another comment\n"
    "[  work  ]\n"
    "  aws_access_key_id = INDENTED\n"
    "aws_access_key_id = AKWORK\n"
    "AWS_SECRET_ACCESS_KEY = secret work \n"
    "aws_session_token = tok=en\n"
    "[nokeys]\n"
    "region = eu-west-3\n";

static void
test_s3_ini(void **state)
{
	char *v;

	(void)state;
	v = s3_ini_get(creds_file, "default", "aws_secret_access_key");
	assert_string_equal(v, "secret/default+1");
	free(v);
	/* an indented line belongs to a sub-section: not the key */
	v = s3_ini_get(creds_file, "work", "aws_access_key_id");
	assert_string_equal(v, "AKWORK");
	free(v);
	v = s3_ini_get(creds_file, "work", "aws_secret_access_key");
	assert_string_equal(v, "secret work");
	free(v);
	v = s3_ini_get(creds_file, "work", "aws_session_token");
	assert_string_equal(v, "tok=en");
	free(v);
	assert_null(s3_ini_get(creds_file, "nokeys", "aws_access_key_id"));
	assert_null(s3_ini_get(creds_file, "missing", "region"));
	assert_null(s3_ini_get(creds_file, "default", "region"));
	assert_null(s3_ini_get("", "default", "x"));
	assert_null(s3_ini_get("[default", "default", "x"));
}

static const char *const env_names[] = {
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL",
	"AWS_ENDPOINT_URL_S3", "AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE",
	"AWS_CONFIG_FILE",
};

/* A HOME with ~/.aws/credentials and ~/.aws/config, no AWS_* set. */
static char *
test_s3_home(void)
{
	char *home;
	char tmpl[] = "/tmp/cwld-test-s3.XXXXXX";
	size_t i;

	for (i = 0; i < sizeof env_names / sizeof env_names[0]; i++)
		unsetenv(env_names[i]);
	assert_non_null(mkdtemp(tmpl));
	home = xstrdup(tmpl);
	tu_mkdir(home, ".aws");
	tu_write(home, ".aws/credentials", creds_file);
	tu_write(home, ".aws/config",
	    "[default]\nregion = eu-central-1\n"
	    "[profile work]\nregion = ap-south-1\n"
	    "endpoint_url = http://127.0.0.1:9000/\n"
	    "[profile cfgonly]\naws_access_key_id = AKCFG\n"
	    "aws_secret_access_key = SKCFG\n"
	    "[profile halfkey]\naws_access_key_id = AKHALF\n");
	setenv("HOME", home, 1);
	return home;
}

static void
test_s3_resolve(void **state)
{
	struct cwld_err err = { 0, "" };
	struct s3_config cfg;
	struct s3_resolved r;
	char *home, *old_home = getenv("HOME") ? xstrdup(getenv("HOME")) : NULL;

	(void)state;
	home = test_s3_home();
	memset(&cfg, 0, sizeof cfg);

	/* the default profile from the files; AWS's endpoint; virtual-host */
	assert_int_equal(s3_resolve(&cfg, &r, &err), 0);
	assert_string_equal(r.access_key, "AKDEFAULT");
	assert_string_equal(r.secret_key, "secret/default+1");
	assert_null(r.session_token);
	assert_string_equal(r.region, "eu-central-1");
	assert_string_equal(r.endpoint, "https://s3.eu-central-1.amazonaws.com");
	assert_int_equal(r.path_style, S3_ADDR_VHOST);
	assert_non_null(strstr(r.cred_source, ".aws/credentials"));
	s3_resolved_release(&r);

	/* AWS_PROFILE: its keys and token, its region and endpoint in the
	 * config file ("profile work"), path-style since an endpoint is given */
	setenv("AWS_PROFILE", "work", 1);
	assert_int_equal(s3_resolve(&cfg, &r, &err), 0);
	assert_string_equal(r.access_key, "AKWORK");
	assert_string_equal(r.session_token, "tok=en");
	assert_string_equal(r.region, "ap-south-1");
	assert_string_equal(r.endpoint, "http://127.0.0.1:9000");
	assert_int_equal(r.path_style, S3_ADDR_PATH);
	s3_resolved_release(&r);

	/* the environment beats the files, and its keys come with its token
	 * (or none), never with the file's */
	setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "SKENV", 1);
	setenv("AWS_DEFAULT_REGION", "us-west-1", 1);
	setenv("AWS_ENDPOINT_URL", "http://localhost:1", 1);
	assert_int_equal(s3_resolve(&cfg, &r, &err), 0);
	assert_string_equal(r.access_key, "AKENV");
	assert_null(r.session_token);
	assert_string_equal(r.region, "us-west-1");
	assert_string_equal(r.endpoint, "http://localhost:1");
	assert_string_equal(r.cred_source, "environment");
	s3_resolved_release(&r);
	setenv("AWS_REGION", "us-west-2", 1);
	setenv("AWS_ENDPOINT_URL_S3", "https://minio.example:9000", 1);
	setenv("AWS_SESSION_TOKEN", "TOKENV", 1);
	assert_int_equal(s3_resolve(&cfg, &r, &err), 0);
	assert_string_equal(r.region, "us-west-2");
	assert_string_equal(r.endpoint, "https://minio.example:9000");
	assert_string_equal(r.session_token, "TOKENV");
	s3_resolved_release(&r);

	/* --s3-credentials: the file's profile beats the environment's keys
	 * (and their token); a file without the profile's keys, or no file,
	 * is an error rather than a fall back */
	{
		char *f = fs_join(home, "flagcreds");

		tu_write(home, "flagcreds", "[default]\naws_access_key_id = AKFILE\n"
		    "aws_secret_access_key = SKFILE\n[work]\naws_access_key_id = AKW\n");
		unsetenv("AWS_PROFILE");
		cfg.credentials_file = f;
		assert_int_equal(s3_resolve(&cfg, &r, &err), 0);
		assert_string_equal(r.access_key, "AKFILE");
		assert_string_equal(r.secret_key, "SKFILE");
		assert_null(r.session_token);
		assert_string_equal(r.cred_source, f);
		s3_resolved_release(&r);
		cfg.profile = "work";
		assert_int_equal(s3_resolve(&cfg, &r, &err), -1);
		assert_non_null(strstr(err.msg, "profile 'work' has no aws_access_key_id"));
		cfg.profile = NULL;
		cfg.credentials_file = "/nonexistent/creds";
		assert_int_equal(s3_resolve(&cfg, &r, &err), -1);
		assert_non_null(strstr(err.msg, "credentials file '/nonexistent/creds'"));
		cfg.credentials_file = NULL;
		setenv("AWS_PROFILE", "work", 1);
		free(f);
	}

	/* explicit settings beat everything; addressing as asked */
	cfg.access_key = "AKX";
	cfg.secret_key = "SKX";
	cfg.region = "eu-north-1";
	cfg.endpoint = "http://127.0.0.1:5000";
	cfg.addressing = S3_ADDR_VHOST;
	assert_int_equal(s3_resolve(&cfg, &r, &err), 0);
	assert_string_equal(r.access_key, "AKX");
	assert_null(r.session_token);
	assert_string_equal(r.region, "eu-north-1");
	assert_string_equal(r.endpoint, "http://127.0.0.1:5000");
	assert_int_equal(r.path_style, S3_ADDR_VHOST);
	assert_string_equal(r.cred_source, "explicit");
	s3_resolved_release(&r);

	/* errors say what is wrong */
	cfg.secret_key = NULL;
	assert_int_equal(s3_resolve(&cfg, &r, &err), -1);
	assert_non_null(strstr(err.msg, "without its secret key"));
	memset(&cfg, 0, sizeof cfg);
	unsetenv("AWS_SECRET_ACCESS_KEY");
	assert_int_equal(s3_resolve(&cfg, &r, &err), -1);
	assert_non_null(strstr(err.msg, "AWS_SECRET_ACCESS_KEY is not"));
	unsetenv("AWS_ACCESS_KEY_ID");
	cfg.endpoint = "ftp://x";
	assert_int_equal(s3_resolve(&cfg, &r, &err), -1);
	assert_non_null(strstr(err.msg, "want http:// or https://"));
	cfg.endpoint = "http://h/?a=b";
	assert_int_equal(s3_resolve(&cfg, &r, &err), -1);
	assert_non_null(strstr(err.msg, "no query"));
	cfg.endpoint = NULL;
	cfg.region = "us:east";
	assert_int_equal(s3_resolve(&cfg, &r, &err), -1);
	assert_non_null(strstr(err.msg, "invalid region 'us:east'"));
	cfg.region = NULL;

	/* keys only in the config file; a key without its secret */
	cfg.profile = "cfgonly";
	assert_int_equal(s3_resolve(&cfg, &r, &err), 0);
	assert_string_equal(r.access_key, "AKCFG");
	assert_string_equal(r.secret_key, "SKCFG");
	s3_resolved_release(&r);
	cfg.profile = "halfkey";
	assert_int_equal(s3_resolve(&cfg, &r, &err), -1);
	assert_non_null(strstr(err.msg, "no aws_secret_access_key"));
	cfg.profile = "nosuch";
	assert_int_equal(s3_resolve(&cfg, &r, &err), -1);
	assert_non_null(strstr(err.msg, "profile 'nosuch' not found"));

	/* no credentials anywhere: unsigned requests, the default region */
	memset(&cfg, 0, sizeof cfg);
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
	unsetenv("AWS_ENDPOINT_URL");
	unsetenv("AWS_ENDPOINT_URL_S3");
	unsetenv("AWS_SESSION_TOKEN");
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);
	setenv("AWS_CONFIG_FILE", "/nonexistent/config", 1);
	assert_int_equal(s3_resolve(&cfg, &r, &err), 0);
	assert_null(r.access_key);
	assert_string_equal(r.cred_source, "none");
	assert_string_equal(r.region, "us-east-1");
	assert_string_equal(r.endpoint, "https://s3.us-east-1.amazonaws.com");
	s3_resolved_release(&r);

	unsetenv("AWS_SHARED_CREDENTIALS_FILE");
	unsetenv("AWS_CONFIG_FILE");
	fs_rm_rf(home, NULL);
	free(home);
	if (old_home != NULL)
		setenv("HOME", old_home, 1);
	free(old_home);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_s3_uri),
		cmocka_unit_test(test_s3_encode_and_query),
		cmocka_unit_test(test_s3_xml),
		cmocka_unit_test(test_s3_ini),
		cmocka_unit_test(test_s3_resolve),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
