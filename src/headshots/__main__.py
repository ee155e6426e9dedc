from headshots.cli import main

main()
