/* key=value words on the command line (what apps get as args). */
#include "base.h"

int um_arg(const char *args, const char *key, char *value, size_t capacity)
{
	size_t key_length = strlen(key);
	for (const char *p = args; *p;) {
		while (*p == ' ')
			p++;
		const char *word = p;
		while (*p && *p != ' ')
			p++;
		if ((size_t)(p - word) > key_length && strncmp(word, key, key_length) == 0 && word[key_length] == '=') {
			const char *v = word + key_length + 1;
			size_t n = (size_t)(p - v);
			if (capacity == 0 || n >= capacity)
				return -1;
			memcpy(value, v, n);
			value[n] = 0;
			return 0;
		}
	}
	return -1;
}

int um_arg_u64(const char *args, const char *key, uint64_t *value)
{
	char text[24];
	if (um_arg(args, key, text, sizeof text) != 0 || !text[0])
		return -1;
	uint64_t n = 0;
	for (const char *p = text; *p; p++) {
		if (*p < '0' || *p > '9' || n > (UINT64_MAX - 9) / 10)
			return -1;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	*value = n;
	return 0;
}
