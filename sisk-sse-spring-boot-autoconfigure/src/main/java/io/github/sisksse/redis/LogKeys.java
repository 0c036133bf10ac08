package io.github.sisksse.redis;

import java.nio.charset.StandardCharsets;

/**
 * The Redis keys of one log. All of them carry the prefix as a hash tag ({@code {prefix}:...}), so that they fall
 * in one hash slot and a script may use them together on a Redis Cluster. Immutable.
 *
 * @param prefix the key prefix, without braces
 */
record LogKeys(String prefix) {

	/** The current epoch: the name of the history the stream holds. */
	byte[] epoch() {
		return key("epoch");
	}

	/** The counter that gives each entry its position. */
	byte[] position() {
		return key("position");
	}

	/** The stream of entries, whose ids are {@code <position>-0}. */
	byte[] stream() {
		return key("log");
	}

	/** The instances that report their presence, scored by the Redis time of their last report. */
	byte[] instances() {
		return key("instances");
	}

	/** The identified connections of one instance, identifier to count. */
	byte[] presence(String instance) {
		return key("presence:" + instance);
	}

	private byte[] key(String name) {
		return ("{" + this.prefix + "}:" + name).getBytes(StandardCharsets.UTF_8);
	}

}
