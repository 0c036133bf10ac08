/**
 * An {@link io.github.sisksse.EventLog} in Redis, through Spring Data Redis, for several application instances
 * that share their streams: {@link io.github.sisksse.redis.RedisEventLog}.
 */
@NullMarked
package io.github.sisksse.redis;

import org.jspecify.annotations.NullMarked;
