package io.github.sisksse.redis;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

import org.jspecify.annotations.Nullable;

import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.ReturnType;

/**
 * The Lua scripts of the log, each run atomically by Redis in one round trip: by its SHA-1, and sent whole only
 * when Redis does not know it yet (after a restart, say). Immutable.
 */
enum LogScripts {

	/**
	 * Append entries, in order. KEYS: epoch, position, stream. ARGV: an epoch to start if there is none, the
	 * stream's approximate maximum length, then for each entry its target, its frame, and the application's own id
	 * after a {@code =}, or an empty string for none. Returns the position of the last entry.
	 * <p>
	 * A missing epoch means the history was lost (Redis flushed or replaced): a new one starts at position 1. So
	 * does a position counter lost while the stream survived, whose positions would otherwise repeat.
	 */
	APPEND(LogScripts.EPOCH_OR_NEW + """
			local position = 0
			for i = 3, #ARGV, 3 do
			  position = redis.call('INCR', KEYS[2])
			  local fields = {'t', ARGV[i], 'f', ARGV[i + 1], 'e', epoch}
			  if ARGV[i + 2] ~= '' then
			    fields[7] = 'o'
			    fields[8] = string.sub(ARGV[i + 2], 2)
			  end
			  local added = redis.pcall('XADD', KEYS[3], 'MAXLEN', '~', ARGV[2], string.format('%d-0', position), unpack(fields))
			  if type(added) == 'table' and added.err then
			    if not string.find(added.err, 'equal or smaller', 1, true) then
			      return added
			    end
			    epoch = ARGV[1]
			    fields[6] = epoch
			    redis.call('DEL', KEYS[3])
			    redis.call('SET', KEYS[1], epoch)
			    redis.call('SET', KEYS[2], 1)
			    position = 1
			    redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[2], '1-0', unpack(fields))
			  end
			end
			return position
			"""),

	/**
	 * Read the epoch, or start a new history if there is none. KEYS: epoch, position, stream. ARGV: the epoch to
	 * start. Returns the epoch.
	 */
	EPOCH(LogScripts.EPOCH_OR_NEW + """
			return epoch
			"""),

	/**
	 * Report this instance's presence and read the others'. KEYS: the instances, this instance's hash, then the
	 * hashes of the other instances live at the last report. ARGV: this instance, the time to live of a report in
	 * milliseconds, {@code full} followed by identifier and count pairs to replace this instance's hash, or else the
	 * number of fields the hash should still have (it only has its expiry renewed). Returns: 1 if that hash lost
	 * its fields (to be sent whole next time), else 0; the live instances; the fields of each hash of KEYS[3...].
	 * Timestamps are Redis's own, so that clocks of instances need not agree.
	 */
	PRESENCE("""
			local time = redis.call('TIME')
			local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
			local ttl = tonumber(ARGV[2])
			local lost = 0
			if ARGV[3] == 'full' then
			  redis.call('DEL', KEYS[2])
			  for i = 4, #ARGV, 500 do
			    redis.call('HSET', KEYS[2], unpack(ARGV, i, math.min(i + 499, #ARGV)))
			  end
			elseif redis.call('HLEN', KEYS[2]) ~= tonumber(ARGV[3]) then
			  lost = 1
			end
			redis.call('PEXPIRE', KEYS[2], ttl)
			redis.call('ZADD', KEYS[1], now, ARGV[1])
			redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - ttl)
			redis.call('PEXPIRE', KEYS[1], ttl)
			local others = {}
			for i = 3, #KEYS do
			  others[i - 2] = redis.call('HGETALL', KEYS[i])
			end
			return {lost, redis.call('ZRANGE', KEYS[1], 0, -1), others}
			""");

	private static final String EPOCH_OR_NEW = """
			local epoch = redis.call('GET', KEYS[1])
			if not epoch then
			  epoch = ARGV[1]
			  redis.call('DEL', KEYS[2], KEYS[3])
			  redis.call('SET', KEYS[1], epoch)
			end
			""";

	private final byte[] source;

	private final String sha;

	LogScripts(String source) {
		this.source = source.getBytes(StandardCharsets.UTF_8);
		this.sha = sha1(this.source);
	}

	/**
	 * Run the script.
	 * @param connection the connection to run it on
	 * @param type how to read its reply
	 * @param keys how many of the arguments are keys
	 * @param keysAndArgs the keys, then the arguments
	 * @return its reply
	 */
	@Nullable <T> T run(RedisConnection connection, ReturnType type, int keys, byte[]... keysAndArgs) {
		try {
			return connection.scriptingCommands().evalSha(this.sha, type, keys, keysAndArgs);
		}
		catch (RuntimeException ex) {
			if (!isNoScript(ex)) {
				throw ex;
			}
			return connection.scriptingCommands().eval(this.source, type, keys, keysAndArgs);
		}
	}

	private static boolean isNoScript(Throwable ex) {
		for (Throwable cause = ex; cause != null; cause = cause.getCause()) {
			if (cause.getMessage() != null && cause.getMessage().contains("NOSCRIPT")) {
				return true;
			}
		}
		return false;
	}

	private static String sha1(byte[] source) {
		try {
			return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(source));
		}
		catch (NoSuchAlgorithmException ex) {
			throw new IllegalStateException(ex);
		}
	}

}
