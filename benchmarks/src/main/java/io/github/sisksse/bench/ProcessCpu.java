package io.github.sisksse.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU time used so far by a process, user and system together, to tell how much of the machine a measurement
 * took.
 */
final class ProcessCpu {

	private ProcessCpu() {
	}

	/**
	 * This JVM's CPU time.
	 * @return nanoseconds
	 */
	static long ofThisJvm() {
		return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
			.getProcessCpuTime();
	}

	/**
	 * Another process's CPU time: utime + stime from /proc (Linux), assuming 100 clock ticks per second, so to
	 * 10 ms.
	 * @param pid the process, or a value {@code <= 0} for none
	 * @return nanoseconds; 0 for no process
	 * @throws IOException where /proc cannot tell (not Linux, or the process is gone)
	 */
	static long of(long pid) throws IOException {
		return (pid <= 0) ? 0 : user(pid) + system(pid);
	}

	/**
	 * The part of {@link #of} spent in the kernel (stime): system calls, such as socket writes.
	 * @param pid the process
	 * @return nanoseconds
	 * @throws IOException where /proc cannot tell
	 */
	static long system(long pid) throws IOException {
		return ticks(pid, 12);
	}

	private static long user(long pid) throws IOException {
		return ticks(pid, 11);
	}

	private static long ticks(long pid, int field) throws IOException {
		String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
		String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
		return Long.parseLong(fields[field]) * 10_000_000L;
	}

}
