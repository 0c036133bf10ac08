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
		if (pid <= 0) {
			return 0;
		}
		String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
		String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
		return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) * 10_000_000L;
	}

}
