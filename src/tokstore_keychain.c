/* SPDX-License-Identifier: ISC */
/*
 * tokstore_keychain: token sets in the macOS Keychain (SecItem API).
 *
 * One generic-password item per (issuer, profile): service "mcp-bridge",
 * account "<profile>@<issuer>", the blob as kSecValueData. A put adds the
 * item or, if it exists, updates its data in place (one atomic replace).
 * SecItem calls have no timeout parameter; a locked keychain without a UI
 * fails with errSecInteractionNotAllowed, which is reported as an error.
 * Built only on macOS with -Dkeychain (Security + CoreFoundation).
 */
#include "tokstore.h"

#include <stdlib.h>

#include <CoreFoundation/CoreFoundation.h>
#include <Security/Security.h>

#include "log.h"
#include "secret.h"
#include "str.h"
#include "xmem.h"

#define KC_SERVICE "mcp-bridge"

struct kstore {
	int timeout_ms; /* kept for symmetry; SecItem has no timeout */
};

/* A CFString from UTF-8 (new, CFRelease), or NULL. */
static CFStringRef
cfstr(const char *s)
{
	return CFStringCreateWithCString(
	    kCFAllocatorDefault, s, kCFStringEncodingUTF8);
}

/* One-line text for an OSStatus into `buf`. */
static const char *
status_text(OSStatus st, char *buf, size_t bufsz)
{
	CFStringRef m = SecCopyErrorMessageString(st, NULL);

	if (m == NULL ||
	    !CFStringGetCString(m, buf, (CFIndex)bufsz, kCFStringEncodingUTF8))
		str_fmt(buf, bufsz, "OSStatus %d", (int)st);
	if (m != NULL)
		CFRelease(m);
	return buf;
}

/* The query for the item (new, CFRelease), or NULL. */
static CFMutableDictionaryRef
query_new(const char *issuer, const char *profile)
{
	CFMutableDictionaryRef q;
	CFStringRef svc, acct;
	char *a;

	q = CFDictionaryCreateMutable(kCFAllocatorDefault, 0,
	    &kCFTypeDictionaryKeyCallBacks, &kCFTypeDictionaryValueCallBacks);
	a = x_asprintf("%s@%s", profile, issuer);
	svc = cfstr(KC_SERVICE);
	acct = cfstr(a);
	free(a);
	if (q == NULL || svc == NULL || acct == NULL) {
		if (q != NULL)
			CFRelease(q);
		q = NULL;
	} else {
		CFDictionarySetValue(q, kSecClass, kSecClassGenericPassword);
		CFDictionarySetValue(q, kSecAttrService, svc);
		CFDictionarySetValue(q, kSecAttrAccount, acct);
	}
	if (svc != NULL)
		CFRelease(svc);
	if (acct != NULL)
		CFRelease(acct);
	return q;
}

static void *
kc_open(enum tokstore_kind k, const struct tokstore_opts *o, char *err,
    size_t errsz)
{
	CFMutableDictionaryRef q;
	CFTypeRef r = NULL;
	struct kstore *ks;
	char msg[256];
	OSStatus st;

	if ((q = query_new("", "")) == NULL) {
		str_fmt(err, errsz, "keychain: cannot build a query");
		return NULL;
	}
	CFDictionarySetValue(q, kSecMatchLimit, kSecMatchLimitOne);
	st = SecItemCopyMatching(q, &r);
	CFRelease(q);
	if (r != NULL)
		CFRelease(r);
	if (st != errSecSuccess && st != errSecItemNotFound) {
		str_fmt(err, errsz, "keychain (macOS): %s",
		    status_text(st, msg, sizeof(msg)));
		return NULL;
	}
	ks = x_calloc(1, sizeof(*ks));
	ks->timeout_ms = o->timeout_ms;
	return ks;
}

static int
kc_get(void *be, const char *issuer, const char *profile, struct secret **out)
{
	CFMutableDictionaryRef q;
	CFTypeRef r = NULL;
	char msg[256];
	OSStatus st;
	int rc = -1;

	if ((q = query_new(issuer, profile)) == NULL)
		return -1;
	CFDictionarySetValue(q, kSecMatchLimit, kSecMatchLimitOne);
	CFDictionarySetValue(q, kSecReturnData, kCFBooleanTrue);
	st = SecItemCopyMatching(q, &r);
	if (st == errSecItemNotFound) {
		rc = 1;
	} else if (st != errSecSuccess || r == NULL ||
	    CFGetTypeID(r) != CFDataGetTypeID()) {
		log_error(
		    "keychain lookup: %s", status_text(st, msg, sizeof(msg)));
	} else {
		*out = secret_new(CFDataGetBytePtr((CFDataRef)r),
		    (size_t)CFDataGetLength((CFDataRef)r));
		rc = 0;
	}
	if (r != NULL)
		CFRelease(r);
	CFRelease(q);
	return rc;
}

/* Updates the existing item's data; SecItemUpdate's status. */
static OSStatus
kc_update(CFDictionaryRef q, CFDataRef data)
{
	CFMutableDictionaryRef upd;
	OSStatus st;

	upd = CFDictionaryCreateMutable(kCFAllocatorDefault, 0,
	    &kCFTypeDictionaryKeyCallBacks, &kCFTypeDictionaryValueCallBacks);
	if (upd == NULL)
		return errSecAllocate;
	CFDictionarySetValue(upd, kSecValueData, data);
	st = SecItemUpdate(q, upd);
	CFRelease(upd);
	return st;
}

static int
kc_put(void *be, const char *issuer, const char *profile,
    const struct secret *blob)
{
	CFMutableDictionaryRef q, add = NULL;
	CFDataRef data;
	char msg[256];
	OSStatus st = errSecAllocate;

	if ((q = query_new(issuer, profile)) == NULL)
		return -1;
	data = CFDataCreate(kCFAllocatorDefault,
	    (const UInt8 *)secret_data(blob), (CFIndex)secret_len(blob));
	if (data == NULL)
		goto out;
	add = CFDictionaryCreateMutableCopy(kCFAllocatorDefault, 0, q);
	if (add == NULL)
		goto out;
	CFDictionarySetValue(add, kSecValueData, data);
	if ((st = SecItemAdd(add, NULL)) == errSecDuplicateItem)
		st = kc_update(q, data);
out:
	if (st != errSecSuccess)
		log_error(
		    "keychain store: %s", status_text(st, msg, sizeof(msg)));
	if (add != NULL)
		CFRelease(add);
	if (data != NULL)
		CFRelease(data);
	CFRelease(q);
	return st == errSecSuccess ? 0 : -1;
}

static int
kc_del(void *be, const char *issuer, const char *profile)
{
	CFMutableDictionaryRef q;
	char msg[256];
	OSStatus st;

	if ((q = query_new(issuer, profile)) == NULL)
		return -1;
	st = SecItemDelete(q);
	CFRelease(q);
	if (st != errSecSuccess && st != errSecItemNotFound) {
		log_error(
		    "keychain delete: %s", status_text(st, msg, sizeof(msg)));
		return -1;
	}
	return 0;
}

static const char *
kc_name(const void *be)
{
	return "keyring (macOS Keychain)";
}

static void
kc_close(void *be)
{
	free(be);
}

const struct tokstore_ops tokstore_keychain_ops = {
	kc_open,
	kc_get,
	kc_put,
	kc_del,
	kc_name,
	kc_close,
};
